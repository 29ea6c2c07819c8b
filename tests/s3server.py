"""A real S3 HTTP server on loopback for the tests: moto's server mode (its
Werkzeug app, as `moto_server` runs it) on a free port, started by the test run.

Every request it answers is recorded (method, key), from this process or any
other, so tests count storage calls where they cost: at the server. A test may
also hold one request (`hold`): an upload mid-body, to kill its sender while it
is on the wire, or any request before it is answered, to be a bucket that is slow.
"""

from __future__ import annotations

import io
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

ACCESS_KEY, SECRET_KEY, REGION = "mjdash-test-key", "mjdash-test-secret", "us-east-1"
INSPECTOR = "mjdash-test-inspector"  # the tests' own look at a bucket: not counted


@dataclass(frozen=True)
class Call:
    method: str
    key: str  # the object key, without the bucket; "" for bucket-level requests


class _Hold:
    """One request (`method`) whose key contains `marker`: its first bytes are read,
    then it waits until released (or its sender is gone) before moto sees the rest."""

    def __init__(self, marker: str, method: str):
        self.marker = marker
        self.method = method
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.remote_port = 0


class S3Server:
    def __init__(self):
        self._lock = threading.Lock()
        self.calls: list[tuple[str, Call]] = []  # (bucket, call)
        self._holds: list[_Hold] = []
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1", 0, self._record(app), threaded=True, request_handler=MotoRequestHandler
        )
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3server", daemon=True)

    def start(self) -> S3Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        for hold in self._holds:
            hold.released.set()
        self._server.shutdown()
        self._thread.join(timeout=10)

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(user_agent_extra=INSPECTOR),
        )

    def bucket(self) -> Bucket:
        name = f"mjdash-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return Bucket(self, name)

    def hold(self, marker: str, method: str = "PUT") -> _Hold:
        """Hold the next request (an upload by default) of a key containing `marker`
        after its first bytes."""
        hold = _Hold(marker, method)
        with self._lock:
            self._holds.append(hold)
        return hold

    def release(self, hold: _Hold) -> None:
        """Let a held request go on, or drop a hold no request met (the server is shared)."""
        with self._lock:
            if hold in self._holds:
                self._holds.remove(hold)
        hold.released.set()

    # ---- the WSGI wrapper ---------------------------------------------------------

    def _record(self, app):
        def recording(environ, start_response):
            path = unquote(environ.get("PATH_INFO", "")).lstrip("/")
            bucket, _, key = path.partition("/")
            method = environ["REQUEST_METHOD"]
            if INSPECTOR in environ.get("HTTP_USER_AGENT", ""):
                return app(environ, start_response)
            with self._lock:
                self.calls.append((bucket, Call(method, key)))
                hold = next((h for h in self._holds if method == h.method and h.marker in key), None)
                if hold:
                    self._holds.remove(hold)
            if hold:
                self._hold_body(environ, hold)
            return app(environ, start_response)

        return recording

    @staticmethod
    def _hold_body(environ, hold: _Hold) -> None:
        """Read the upload's first bytes, signal, wait; then hand moto those bytes
        followed by whatever of the body still arrives (nothing, once the sender died)."""
        stream = environ["wsgi.input"]
        first = stream.read(min(16 * 1024, int(environ.get("CONTENT_LENGTH") or 0)))
        hold.remote_port = int(environ.get("REMOTE_PORT") or 0)
        hold.arrived.set()
        hold.released.wait(timeout=60)
        environ["wsgi.input"] = _Chained(first, stream)


class _Chained(io.RawIOBase):
    def __init__(self, first: bytes, rest):
        self._first = io.BytesIO(first)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._first.read(len(buffer))
        if not data:
            try:
                data = self._rest.read(len(buffer))
            except OSError:  # the sender is gone
                data = b""
        buffer[: len(data)] = data
        return len(data)


class Bucket:
    """One test's bucket on the shared server, and the requests made to it."""

    def __init__(self, server: S3Server, name: str):
        self.server = server
        self.name = name
        self._start = len(server.calls)

    @property
    def calls(self) -> list[Call]:
        with self.server._lock:
            return [call for bucket, call in self.server.calls[self._start :] if bucket == self.name]

    def count(self, method: str | None = None) -> int:
        return sum(1 for call in self.calls if method is None or call.method == method)

    def reset(self) -> None:
        self._start = len(self.server.calls)

    def stored(self) -> list[str]:
        answer = self.server.client().list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.name, Key=key)["Body"].read()

    def environ(self, **extra: str) -> dict[str, str]:
        """The variables that point a dashboard process at this bucket."""
        return {
            "MJ_MEDIA_BUCKET": self.name,
            "MJ_MEDIA_ENDPOINT_URL": self.server.endpoint,
            "MJ_MEDIA_REGION": REGION,
            "MJ_MEDIA_ACCESS_KEY_ID": ACCESS_KEY,
            "MJ_MEDIA_SECRET_ACCESS_KEY": SECRET_KEY,
            **extra,
        }
