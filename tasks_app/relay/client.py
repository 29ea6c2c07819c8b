"""The only code that speaks HTTP to the relay.

It returns plain typed records (never Django models) and turns every failure
into one small family of exceptions. Settings are read at call time so tests
and demo mode can point it elsewhere.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from mjdash.logs import redact
from tasks_app.deadline import Deadline, WatchedConnection
from tasks_app.relay.errors import (
    BadAnswer,
    KeyRejected,
    RateLimited,
    TooLargeToSend,
    UpstreamDown,
    UpstreamError,
)
from tasks_app.relay.records import SubmitResult, TaskRecord, normalise_envelope, normalise_task, text
from tasks_app.relay.status import status_rank

logger = logging.getLogger(__name__)


def longest_call() -> float:
    """Seconds one relay call may take at most, every retry and wait included.

    MJ_RELAY_DEADLINE bounds the whole call; a second more covers the
    watchdog's cut and the caller noticing it.
    """
    return settings.MJ_RELAY_DEADLINE + 1


_session_lock = threading.Lock()
_sessions: dict[int, requests.Session] = {}
CHUNK = 64 * 1024
ERROR_BODY_BYTES = 4096  # of an error answer, only enough for its hint is read


class _WatchedHTTPConnection(WatchedConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(WatchedConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """Connections that the call's Deadline can cut."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def _session() -> requests.Session:
    """One pooled session per pool size, shared by every thread."""
    size = max(1, settings.MJ_CONCURRENCY)
    with _session_lock:
        session = _sessions.get(size)
        if session is None:
            session = requests.Session()
            adapter = _WatchedAdapter(pool_connections=2, pool_maxsize=size * 2)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[size] = session
        return session


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _body_hint(status: int, data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    if text.startswith("<"):
        return f"HTTP {status}, HTML page"
    # Shown on pages and logged: a relay that echoes the key must not show it.
    return f"HTTP {status}: {redact(text[:160])}"


def _too_large(cap: int) -> BadAnswer:
    return BadAnswer(f"answer too large: more than {cap / 1024 / 1024:.1f} MB (MJ_RELAY_MAX_BYTES)")


def _read_body(response: requests.Response, cap: int, *, strict: bool) -> bytes:
    """The body, read while streaming and never more than `cap` bytes of it.

    Strict: a longer body is refused (a task list must be whole); otherwise
    it is cut at the cap (an error page's hint needs only its start).
    """
    declared = response.headers.get("Content-Length", "")
    if strict and declared.isascii() and declared.isdigit() and int(declared) > cap:
        raise _too_large(cap)
    body = bytearray()
    for chunk in response.iter_content(CHUNK):
        body += chunk
        if len(body) > cap:
            if strict:
                raise _too_large(cap)
            return bytes(body[:cap])
    return bytes(body)


def _decode(status: int, data: bytes) -> Any:
    try:
        return json.loads(data)  # bytes: UTF-8 (or -16/-32) as JSON must be
    except RecursionError:
        raise BadAnswer("answer nested too deep to read") from None
    except ValueError:
        raise BadAnswer(_body_hint(status, data)) from None


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the relay (no connection was made)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectTimeout) or isinstance(
        reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    )


def _exchange(method: str, url: str, body: Any, deadline: Deadline) -> tuple[requests.Response, bytes]:
    """One request and its (capped) body, cut at the deadline whatever the relay does."""
    headers = {"Authorization": f"Bearer {settings.MJ_API_KEY}", "Accept": "application/json"}
    left = max(0.01, deadline.remaining())
    timeout = (min(settings.MJ_CONNECT_TIMEOUT, left), min(settings.MJ_READ_TIMEOUT, left))
    with deadline.watching():
        response = _session().request(method, url, json=body, headers=headers, timeout=timeout, stream=True)
        with response:
            ok = response.status_code < 400
            cap = settings.MJ_RELAY_MAX_BYTES if ok else ERROR_BODY_BYTES
            data = _read_body(response, cap, strict=ok)
    if deadline.cut:  # the watchdog cut the socket: what was read may be truncated
        raise requests.Timeout("whole-call deadline")
    return response, data


def _request(
    method: str, path: str, body: Any = None, *, paid: bool = False, deadline: Deadline | None = None
) -> Any:
    """Send one request with bounded retries, all within the deadline; return the decoded JSON.

    The deadline is MJ_RELAY_DEADLINE from now unless the caller shares one
    (a lookup's batches end together). A paid request (a submit) is sent
    again only when it cannot have reached the relay (no connection); after
    a read timeout or a 5xx the relay may have started the job, and a second
    send would bill it twice.
    """
    if not settings.MJ_API_BASE:
        raise UpstreamDown("MJ_API_BASE is not configured")
    if deadline is not None:
        return _attempts(method, path, body, paid=paid, deadline=deadline)
    with Deadline(settings.MJ_RELAY_DEADLINE) as own:
        return _attempts(method, path, body, paid=paid, deadline=own)


def _attempts(method: str, path: str, body: Any, *, paid: bool, deadline: Deadline) -> Any:
    url = settings.MJ_API_BASE + path
    attempts = max(1, settings.MJ_RETRIES + 1)
    for attempt in range(attempts):
        last = attempt == attempts - 1
        maybe_sent = False
        try:
            response, data = _exchange(method, url, body, deadline)
        except requests.RequestException as exc:
            timed_out = isinstance(exc, requests.Timeout) or deadline.passed
            error: UpstreamError = UpstreamDown("timed out" if timed_out else type(exc).__name__)
            maybe_sent = not _never_connected(exc)
        else:
            status = response.status_code
            if status in (401, 403):
                raise KeyRejected(f"HTTP {status}")
            if status == 429:
                wait = _retry_after(response)
                if last or wait is None or wait > min(settings.MJ_RETRY_AFTER_MAX, deadline.remaining()):
                    raise RateLimited("HTTP 429", retry_after=wait)
                time.sleep(wait)
                continue
            if status >= 500:
                error = UpstreamDown(_body_hint(status, data))
                maybe_sent = True
            elif status >= 400:
                raise BadAnswer(_body_hint(status, data))
            else:
                return _decode(status, data)
        logger.warning("upstream %s %s failed (attempt %d): %s", method, path, attempt + 1, error)
        backoff = settings.MJ_RETRY_BACKOFF * (2**attempt)
        if last or (paid and maybe_sent) or backoff >= deadline.remaining():
            error.maybe_sent = maybe_sent
            raise error
        time.sleep(backoff)
    raise UpstreamDown("no attempt made")  # pragma: no cover - loop always returns or raises


# ---- public API ------------------------------------------------------------


def _list_batch(ids: list[str], deadline: Deadline) -> list[TaskRecord]:
    answer = _request("POST", "/mj/task/list-by-condition", {"ids": ids}, deadline=deadline)
    if not isinstance(answer, list):
        hint = answer.get("description", "") if isinstance(answer, dict) else type(answer).__name__
        raise BadAnswer(f"expected a JSON array, got {text(hint)[:120] or 'something else'}")
    return [record for item in answer if (record := normalise_task(item)) is not None]


def list_by_condition(ids: list[str]) -> list[TaskRecord]:
    """Ask for many tasks at once, in concurrent batches; unknown ids are absent.

    Duplicated tasks in the answer are folded (the furthest along wins). The
    first failing batch raises; a partial result is never returned as if
    whole. All batches share one deadline, so a lookup of many IDs ends in
    time too.
    """
    return [record for batch in list_batches(ids) for record in batch]


def list_batches(ids: list[str]) -> Iterator[list[TaskRecord]]:
    """list_by_condition a batch at a time, each as soon as it has arrived (in
    any order), so that the caller stores one while the others are on the wire.

    The first failing batch raises (batches not sent yet are dropped); the
    batches yielded before it were whole. The shared deadline runs while the
    caller works between batches too.
    """
    unique = list(dict.fromkeys(ids))
    if not unique:
        return
    size = max(1, settings.MJ_BATCH_SIZE)
    batches = [unique[i : i + size] for i in range(0, len(unique), size)]
    with Deadline(settings.MJ_RELAY_DEADLINE) as deadline:
        if len(batches) == 1:
            yield _fold(batches[0], _list_batch(batches[0], deadline))
            return
        workers = min(len(batches), max(1, settings.MJ_CONCURRENCY))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mj-list") as pool:
            futures = {pool.submit(_list_batch, batch, deadline): batch for batch in batches}
            try:
                for future in as_completed(futures):
                    yield _fold(futures[future], future.result())
            finally:  # a failure, or a caller that stopped early: send no more
                pool.shutdown(wait=True, cancel_futures=True)


def _fold(asked: list[str], records: list[TaskRecord]) -> list[TaskRecord]:
    """The records of the IDs asked, each once: the same task twice in one
    answer (replicas) keeps the one furthest along."""
    wanted = set(asked)
    found: dict[str, TaskRecord] = {}
    for record in records:
        if record.id not in wanted:
            continue
        seen = found.get(record.id)
        if seen is None or status_rank(record.status) >= status_rank(seen.status):
            found[record.id] = record
    return list(found.values())


def fetch(task_id: str) -> TaskRecord | None:
    """One task by id (a fallback path); None when the proxy does not know it."""
    try:
        answer = _request("GET", f"/mj/task/{requests.utils.quote(task_id, safe='')}/fetch")
    except BadAnswer:
        return None
    return normalise_task(answer)


def submit_action(task_id: str, custom_id: str, *, notify_hook: str = "", state: str = "") -> SubmitResult:
    body = {"taskId": task_id, "customId": custom_id}
    if notify_hook:
        body["notifyHook"] = notify_hook
    if state:
        body["state"] = state
    return normalise_envelope(_request("POST", "/mj/submit/action", body, paid=True))


def submit_modal(
    task_id: str, *, prompt: str = "", mask_base64: str = "", notify_hook: str = "", state: str = ""
) -> SubmitResult:
    body = {"taskId": task_id, "prompt": prompt}
    if mask_base64:
        body["maskBase64"] = mask_base64
    if notify_hook:
        body["notifyHook"] = notify_hook
    if state:
        body["state"] = state
    return normalise_envelope(_request("POST", "/mj/submit/modal", body, paid=True))


def submit_imagine(
    prompt: str, *, images: list[str] = (), bot_type: str = "", notify_hook: str = "", state: str = ""
) -> SubmitResult:
    """Start an IMAGINE: a prompt, and reference images as data URLs."""
    body = {"prompt": prompt, "base64Array": list(images)}
    return _submit("/mj/submit/imagine", body, bot_type=bot_type, notify_hook=notify_hook, state=state)


def submit_blend(
    images: list[str],
    *,
    dimensions: str = "SQUARE",
    bot_type: str = "",
    notify_hook: str = "",
    state: str = "",
) -> SubmitResult:
    """Start a BLEND of 2 to 5 images (data URLs); dimensions PORTRAIT, SQUARE or LANDSCAPE."""
    body = {"base64Array": list(images), "dimensions": dimensions}
    return _submit("/mj/submit/blend", body, bot_type=bot_type, notify_hook=notify_hook, state=state)


def submit_describe(
    image: str, *, bot_type: str = "", notify_hook: str = "", state: str = ""
) -> SubmitResult:
    """Start a DESCRIBE of one image (a data URL): the finished task holds four prompts."""
    body = {"base64": image}
    return _submit("/mj/submit/describe", body, bot_type=bot_type, notify_hook=notify_hook, state=state)


def submit_shorten(
    prompt: str, *, bot_type: str = "", notify_hook: str = "", state: str = ""
) -> SubmitResult:
    """Start a SHORTEN of a prompt: the finished task holds five shorter ones."""
    body = {"prompt": prompt}
    return _submit("/mj/submit/shorten", body, bot_type=bot_type, notify_hook=notify_hook, state=state)


def _submit(path: str, body: dict, *, bot_type: str, notify_hook: str, state: str) -> SubmitResult:
    """A paid submit: refused here when its body is over MJ_SUBMIT_MAX_BYTES (nothing
    leaves), else sent once within the whole-call deadline (never re-sent after it may
    have arrived) and its envelope read under MJ_RELAY_MAX_BYTES."""
    for key, value in (("botType", bot_type), ("notifyHook", notify_hook), ("state", state)):
        if value:
            body[key] = value
    size = len(json.dumps(body).encode())
    if size > settings.MJ_SUBMIT_MAX_BYTES:
        raise TooLargeToSend(f"{size:,} bytes")
    return normalise_envelope(_request("POST", path, body, paid=True))


def cancel(task_id: str) -> SubmitResult:
    path = f"/mj/task/{requests.utils.quote(task_id, safe='')}/cancel"
    return normalise_envelope(_request("POST", path, {}))
