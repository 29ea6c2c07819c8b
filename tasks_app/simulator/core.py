"""The `Simulator` facade: a Midjourney proxy on loopback that tests and demo mode drive.

It owns the tasks, clock, faults and counters; `server` moves bytes and `api`
decides answers. Nothing here imports Django, so it runs anywhere.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import quote

from . import hooks
from . import seed as samples
from .images import ImageCache, sign
from .jobs import child_look
from .server import make_server
from .state import Clock, FaultBook
from .tasks import SimTask, seed_of

_FIELDS = {
    "customId": "custom_id",
    "botType": "bot_type",
    "state": "state",
    "promptEn": "prompt_en",
    "maskBase64": "mask",
    "notifyHook": "notify_hook",
    "resultText": "result_text",
}


class Simulator:
    """Serve the proxy's routes on `base_url` from a background daemon thread."""

    SAMPLE_IDS = samples.SAMPLE_IDS

    def __init__(
        self,
        api_key: str = "sim-key",
        seed: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        frozen_clock: bool = False,
    ):
        self.api_key = api_key
        self.host, self.port = host, port
        self.clock = Clock(frozen=frozen_clock)
        self.faults = FaultBook()
        self.images = ImageCache()
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.image_requests: Counter[str] = Counter()  # image downloads asked, by task id
        self.list_batches: list[list[str]] = []
        self.received: list[tuple[str, dict]] = []
        # (route, Authorization, mj-api-secret) of every request, as received: relays
        # accept either header, so a test can tell which one the dashboard sent.
        self.auth_headers: list[tuple[str, str | None, str | None]] = []
        self.latency = 0.0
        self.timeout_sleep = 5.0
        self.hook_timeout = 3.0  # how long a push waits for the dashboard's answer
        self.url_ttl = 86400.0
        # Some relays sign their image links afresh on every answer: a task asked
        # again then carries a link valid from now (others keep the finish time's).
        self.resign_urls = False
        self.queued_seconds = 2.0
        self.run_seconds = 20.0
        # Button behaviour (see jobs.action): "plus" answers 21 with a new MODAL
        # task for Vary Region / Custom Zoom; "original" answers 21 with the
        # existing task when a button is pressed again.
        self.code21_dialect = "plus"
        self.tasks_per_press = 1  # > 1: one press starts several jobs, "id1,id2"
        # Called with (route, body) once a submit was accepted, before its answer
        # leaves: a test breaks things at the worst moment (a database blip).
        self.after_submit: list = []
        self.forced_codes: list[int] = []  # the next submits answer these codes, in order
        # A busy relay: with this many unfinished jobs new ones are refused (23, queue
        # full); past `concurrent_jobs` running ones they are queued (22). None: no limit.
        self.queue_capacity: int | None = None
        self.concurrent_jobs: int | None = None
        self.forced_results: list[str] = []  # the next actions answer these as `result`, in order
        self._tasks: dict[str, SimTask | dict] = {}
        self._seq = 0
        self._secret = hashlib.sha256(b"mjdash-simulator:" + api_key.encode()).digest()
        self._stopping = threading.Event()
        self._server = None
        self._thread: threading.Thread | None = None
        self._seeded = seed
        self.hook_marks: dict[str, tuple[str, str]] = {}
        self.hook_deliveries: list[tuple[str, int]] = []
        self._hook_thread: threading.Thread | None = None
        self.clock.listeners.append(self.deliver_hooks)
        if seed:
            samples.load(self)

    # ---- lifecycle ------------------------------------------------------------

    def start(self) -> Simulator:
        self._stopping.clear()
        self._server = make_server(self, self.host, self.port)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="mj-simulator", daemon=True
        )
        self._thread.start()
        if not self.clock.frozen:
            self._hook_thread = threading.Thread(target=self._tick_hooks, name="mj-sim-hooks", daemon=True)
            self._hook_thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def sample_ids(self) -> list[str]:
        return list(self.SAMPLE_IDS) if self._seeded else []

    def deliver_hooks(self) -> list[tuple[str, int]]:
        """POST each task with a notifyHook whose state moved since its last push."""
        if self._server is None:
            return []
        delivered = hooks.deliver(self, timeout=self.hook_timeout)
        with self.lock:
            self.hook_deliveries.extend(delivered)
        return delivered

    def _tick_hooks(self) -> None:
        while not self._stopping.wait(0.5):
            self.deliver_hooks()

    # ---- tasks ----------------------------------------------------------------

    def add_task(
        self,
        task_id: str | None = None,
        *,
        action: str = "IMAGINE",
        prompt: str = "a pig",
        status: str | None = None,
        outcome: str = "SUCCESS",
        queued: float = 0.0,
        run: float = 30.0,
        fail_reason: str = "",
        parent_id: str | None = None,
        buttons: list[dict] | None = None,
        ago: float = 0.0,
        hostile: str = "",
        **extra: Any,
    ) -> str:
        """Add a clock-driven task submitted `ago` seconds before now; returns its id.

        `hostile` (a kind of simulator/hostile.py) makes every image link of the
        task answer that hostile image. Known camelCase keys (customId, botType, state, promptEn, maskBase64,
        notifyHook) set those fields; any other key is merged into the payload.
        """
        with self.lock:
            now = self.clock.now()
            task_id = str(task_id) if task_id is not None else self._new_id(now)
            submitted = now - ago
            task = SimTask(
                id=task_id,
                action=action,
                prompt=prompt,
                submitted=submitted,
                queued=queued,
                run=run,
                outcome=outcome,
                fail_reason=fail_reason,
                pinned=status,
                pinned_at=submitted + min(ago, 1.0 + queued + run / 3),
                parent_id=parent_id,
                buttons=copy.deepcopy(buttons),
                look=(seed_of(task_id), None),
                hostile=hostile,
            )
            for key, attr in _FIELDS.items():
                if key in extra:
                    setattr(task, attr, extra.pop(key))
            task.extra = extra
            parent = self._tasks.get(parent_id) if parent_id else None
            if parent is not None and task.custom_id:
                parent_look = parent.look if isinstance(parent, SimTask) else (seed_of(parent_id), None)
                task.look = child_look(parent_look, task.custom_id, task_id)
                if isinstance(parent, SimTask):
                    parent.pressed.add(task.custom_id)
            self._tasks[task_id] = task
            return task_id

    def put_raw(self, payload: dict) -> str:
        """Store an object that list and fetch return verbatim (odd payloads on purpose)."""
        task_id = str(payload["id"])
        with self.lock:
            self._tasks[task_id] = copy.deepcopy(payload)
        return task_id

    def task(self, task_id: str) -> SimTask:
        """The modelled task, for tests that want to inspect or tweak it directly."""
        found = self._tasks[task_id]
        if not isinstance(found, SimTask):
            raise TypeError(f"{task_id} was stored with put_raw")
        return found

    def stored(self, task_id: str) -> SimTask | dict | None:
        return self._tasks.get(task_id)

    def task_ids(self) -> list[str]:
        with self.lock:
            return list(self._tasks)

    def payload(self, task_id: str) -> dict | None:
        """The task object as list/fetch would answer it right now."""
        return self._payload(task_id)

    def image_url(self, task_id: str, ttl: float | None = None) -> str:
        """A signed attachment URL (e.g. for put_raw payloads), valid `ttl` s from now."""
        task = self._tasks.get(task_id)
        if not isinstance(task, SimTask):
            task = SimTask(id=task_id, action="IMAGINE", prompt="image", submitted=0)
        now = self.clock.now()
        return self._url(task, "", now, ttl=ttl)

    # ---- faults and counters --------------------------------------------------

    def set_fault(
        self,
        kind: str,
        *,
        times: int = 1,
        retry_after: float | int | str | None = None,
        routes: tuple[str, ...] | str = ("list",),
    ) -> None:
        """Make the next `times` requests to `routes` ("*" for all) fail with `kind`."""
        self.faults.add(kind, times=times, retry_after=retry_after, routes=routes)

    def force_code(self, code: int, *, times: int = 1) -> None:
        """Make the next `times` submits (any route) answer envelope `code` (21, 22, 23, 24, 4...)."""
        with self.lock:
            self.forced_codes.extend([int(code)] * times)

    def masks(self) -> list[str]:
        """Every maskBase64 received by /mj/submit/modal, oldest first."""
        with self.lock:
            return [body.get("maskBase64") or "" for route, body in self.received if route == "modal"]

    def clear_faults(self) -> None:
        self.faults.clear()

    def reset_counters(self) -> None:
        with self.lock:
            self.calls.clear()
            self.image_requests.clear()
            self.list_batches.clear()
            self.received.clear()
            self.auth_headers.clear()

    # ---- used by api / jobs -----------------------------------------------------

    def _count(self, route: str) -> None:
        with self.lock:
            self.calls[route] += 1

    def _count_image(self, task_id: str) -> None:
        with self.lock:
            self.image_requests[task_id] += 1

    def _record_auth(self, route: str, headers) -> None:
        with self.lock:
            self.auth_headers.append((route, headers.get("Authorization"), headers.get("mj-api-secret")))

    def _record_batch(self, ids: list[str]) -> None:
        with self.lock:
            self.list_batches.append(ids)

    def _record_received(self, route: str, body: dict) -> None:
        with self.lock:
            self.received.append((route, body))

    def _pause(self, seconds: float) -> None:
        if seconds and seconds > 0:
            self._stopping.wait(seconds)

    def _payload(self, task_id: str) -> dict | None:
        with self.lock:
            task = self._tasks.get(task_id)
            if task is None:
                return None
            if isinstance(task, dict):
                return copy.deepcopy(task)
            return task.payload(self.clock.now(), self._url)

    def _new_id(self, now: float) -> str:
        millis, tried = int(now * 1000), 0
        while True:
            self._seq += 1
            candidate = f"{millis}{self._seq % 1000:03d}"
            if candidate not in self._tasks:
                return candidate
            tried += 1
            if tried % 1000 == 0:  # this millisecond's thousand IDs are taken: use the next one
                millis += 1

    def _url(self, task: SimTask, suffix: str, when: float, ttl: float | None = None) -> str:
        ttl = self.url_ttl if ttl is None else ttl
        if self.resign_urls:
            when = max(when, self.clock.now())
        words = re.findall(r"[a-z0-9]+", (task.prompt_en or task.prompt).lower())[:6]
        stem = "mjdash_" + ("_".join(words) or "image") + "_" + task.hash
        path = f"/attachments/{quote(task.id, safe='')}/{stem}{suffix}.png"
        ex, is_ = format(int(when + ttl), "x"), format(int(when), "x")
        return f"{self.base_url}{path}?ex={ex}&is={is_}&hm={sign(self._secret, path, ex, is_)}&"


__all__ = ["Simulator"]
