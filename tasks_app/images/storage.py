"""The one door to where archived images live: Django's `storages["default"]`,
the file system under MEDIA_ROOT or an S3-compatible bucket (MJ_MEDIA_BUCKET).

Everything that reads or writes archived files goes through these four calls,
and each costs one request to a bucket at most (`url` none: it is signed here):

- `save`: the whole file appears under its name at once, or nothing does. A
  bucket shows a PUT whole or not at all (settings keep every upload a single
  PUT); on the file system the bytes go to a hidden temporary file beside the
  target, renamed over it when complete. A worker killed mid-write leaves no
  half file under a name the database records (it records names only after
  every write succeeded).
- `open`: a reader of the stored bytes, one GET on a bucket, streamed.
- `url`: a short-lived signed URL a browser may fetch, or None where files are
  sent by the app itself (the file system, or MJ_MEDIA_SERVE=stream).
- `delete`.

Each bucket call runs under one whole-call deadline (MJ_MEDIA_DEADLINE, every
attempt and byte included; tasks_app/deadline.py cuts the sockets when it
passes), and any way a bucket fails (no answer in time, refused, 5xx) is raised
as StorageUnavailable: a passing failure that workers retry and image views
answer with 503. A body streamed to a browser is paced by the browser: past its
headers, only the per-read timeout (MJ_MEDIA_TIMEOUT) bounds it.

Nothing here asks whether a file exists: what is archived is recorded in the
database (TaskImage), which every reader consults instead.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.utils.http import content_disposition_header

from tasks_app.deadline import Deadline, WatchedConnection
from tasks_app.images.errors import ImageRefused

COPY_BYTES = 256 * 1024
# A bucket's reader is spooled to disk past this when a caller needs to seek (Pillow).
SPOOL_BYTES = 8 * 1024 * 1024


class StorageUnavailable(OSError):
    """The bucket did not answer within its deadline, or failed: try again later."""


def save(name: str, content: bytes | BinaryIO) -> str:
    """Store `content` under `name`, replacing what is there, as one atomic step."""
    store = storages["default"]
    if isinstance(store, FileSystemStorage):
        _write_atomically(store, name, content)
        return name
    if isinstance(content, bytes):
        content = ContentFile(content)
    with _bucket_call(f"saving {name}"):
        return store.save(name, content)


def open(name: str, *, seekable: bool = False, max_bytes: int | None = None) -> BinaryIO:  # noqa: A001
    """A binary reader of the stored file (FileNotFoundError when it is gone); its
    `size` attribute is the byte count when the store says so. `seekable` for
    readers that jump about (Pillow): a bucket's body is then spooled first.
    With `max_bytes`, a larger file raises ImageRefused("too_large") unread."""
    store = storages["default"]
    if not _is_bucket(store):
        file = store.open(name, "rb")
        _check_size(file, name, file.size, max_bytes)
        return file
    with _bucket_call(f"reading {name}", reading=name):
        answer = store.bucket.Object(_key(store, name)).get()
        body = _Body(answer["Body"], answer.get("ContentLength"))
        _check_size(body, name, body.size, max_bytes)
        if not seekable:
            return body
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller closes it
        try:
            with body:
                copied = 0
                while chunk := body.read(COPY_BYTES):
                    copied += len(chunk)
                    if max_bytes is not None and copied > max_bytes:  # a length the store misreported
                        raise ImageRefused("too_large", f"{name}: more than {max_bytes} bytes")
                    spooled.write(chunk)
        except BaseException:
            spooled.close()
            raise
    spooled.seek(0)
    return spooled


def url(name: str, *, filename: str, content_type: str, download: bool = False) -> str | None:
    """A URL that serves the file for MJ_MEDIA_URL_SECONDS to whoever holds it, with
    the download name, type and cache headers the app would send; None when the
    app sends files itself. Signed locally: no request to the bucket."""
    store = storages["default"]
    if not _is_bucket(store) or settings.MJ_MEDIA_SERVE != "redirect":
        return None
    seconds = settings.MJ_MEDIA_URL_SECONDS
    return store.url(
        name,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": content_disposition_header(download, filename),
            # The bytes never change under a name; the signature is what expires.
            "ResponseCacheControl": f"private, max-age={seconds}",
        },
        expire=seconds,
    )


def delete(name: str) -> None:
    store = storages["default"]
    if not _is_bucket(store):
        store.delete(name)
        return
    with _bucket_call(f"deleting {name}"):
        store.delete(name)


def is_bucket() -> bool:
    return _is_bucket(storages["default"])


def bucket_check(*, seconds: float) -> None:
    """One HEAD of the bucket within `seconds`: raises StorageUnavailable when it
    does not answer in time or refuses us."""
    store = storages["default"]
    with _bucket_call("checking the bucket", seconds=seconds):
        store.connection.meta.client.head_bucket(Bucket=store.bucket_name)


# ---- helpers -------------------------------------------------------------------------


@contextlib.contextmanager
def _bucket_call(what: str, *, seconds: float | None = None, reading: str = ""):
    """One bucket call (all its attempts) within its deadline; every way it fails
    raised as StorageUnavailable, but the object `reading` missing (FileNotFoundError)."""
    from botocore.exceptions import BotoCoreError, ClientError

    _watch_bucket_connections()
    seconds = seconds or settings.MJ_MEDIA_DEADLINE
    with Deadline(seconds) as deadline, deadline.watching():
        try:
            yield
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 and reading:
                raise FileNotFoundError(reading) from None
            raise StorageUnavailable(f"{what}: the bucket answered {status}") from exc
        except (BotoCoreError, ConnectionError, TimeoutError) as exc:
            reason = f"no answer within {seconds:g} s" if deadline.cut else type(exc).__name__
            raise StorageUnavailable(f"{what}: {reason}") from exc
        if deadline.cut:  # a cut read may end early rather than fail: what was read is not whole
            raise StorageUnavailable(f"{what}: no answer within {seconds:g} s")


@functools.cache
def _watch_bucket_connections() -> None:
    """botocore's connections join the calling thread's deadline (inert outside one)."""
    from botocore import awsrequest

    class WatchedHTTP(WatchedConnection, awsrequest.AWSHTTPConnection):
        pass

    class WatchedHTTPS(WatchedConnection, awsrequest.AWSHTTPSConnection):
        pass

    awsrequest.AWSHTTPConnectionPool.ConnectionCls = WatchedHTTP
    awsrequest.AWSHTTPSConnectionPool.ConnectionCls = WatchedHTTPS


def _is_bucket(store) -> bool:
    return hasattr(store, "bucket_name")  # django-storages' S3Storage and its kin


def _check_size(file, name: str, size: int | None, max_bytes: int | None) -> None:
    if max_bytes is not None and size is not None and size > max_bytes:
        file.close()
        raise ImageRefused("too_large", f"{name}: {size} bytes, more than {max_bytes}")


def _key(store, name: str) -> str:
    """The object key of a storage name: the prefix (MJ_MEDIA_PREFIX) joined, as
    S3Storage itself computes it."""
    from storages.utils import clean_name

    return store._normalize_name(clean_name(name))


def _write_atomically(store: FileSystemStorage, name: str, content: bytes | BinaryIO) -> None:
    target = Path(store.path(name))
    target.parent.mkdir(parents=True, exist_ok=True)
    if store.directory_permissions_mode is not None:
        target.parent.chmod(store.directory_permissions_mode)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                if content.seekable() if hasattr(content, "seekable") else hasattr(content, "seek"):
                    content.seek(0)
                shutil.copyfileobj(content, out, COPY_BYTES)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, store.file_permissions_mode or 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Body(io.RawIOBase):
    """A bucket object's body as a plain binary reader, with its size."""

    def __init__(self, stream, size: int | None):
        self._stream = stream
        self.size = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(None if size is None or size < 0 else size)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()
