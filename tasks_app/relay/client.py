"""The only code that speaks HTTP to the relay.

It returns plain typed records (never Django models) and turns every failure
into one small family of exceptions. Settings are read at call time so tests
and demo mode can point it elsewhere.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter

from mjdash.logs import redact
from tasks_app.relay.errors import BadAnswer, KeyRejected, RateLimited, UpstreamDown, UpstreamError
from tasks_app.relay.records import SubmitResult, TaskRecord, normalise_envelope, normalise_task, text

logger = logging.getLogger(__name__)


def longest_call() -> float:
    """Seconds one relay call may take at most, every retry included."""
    attempt = settings.MJ_CONNECT_TIMEOUT + settings.MJ_READ_TIMEOUT
    return attempt * (settings.MJ_RETRIES + 1)


_session_lock = threading.Lock()
_sessions: dict[int, requests.Session] = {}


def _session() -> requests.Session:
    """One pooled session per pool size, shared by every thread."""
    size = max(1, settings.MJ_CONCURRENCY)
    with _session_lock:
        session = _sessions.get(size)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=size * 2)
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


def _body_hint(response: requests.Response) -> str:
    text = response.text.strip()
    if text.startswith("<"):
        return f"HTTP {response.status_code}, HTML page"
    # Shown on pages and logged: a relay that echoes the key must not show it.
    return f"HTTP {response.status_code}: {redact(text[:160])}"


def _never_connected(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the relay (no connection was made)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectTimeout) or isinstance(
        reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    )


def _request(method: str, path: str, body: Any = None, *, paid: bool = False) -> Any:
    """Send one request with bounded retries; return the decoded JSON.

    A paid request (a submit) is sent again only when it cannot have reached
    the relay (no connection); after a read timeout or a 5xx the relay may
    have started the job, and a second send would bill it twice.
    """
    if not settings.MJ_API_BASE:
        raise UpstreamDown("MJ_API_BASE is not configured")
    url = settings.MJ_API_BASE + path
    headers = {"Authorization": f"Bearer {settings.MJ_API_KEY}", "Accept": "application/json"}
    timeout = (settings.MJ_CONNECT_TIMEOUT, settings.MJ_READ_TIMEOUT)
    attempts = max(1, settings.MJ_RETRIES + 1)
    for attempt in range(attempts):
        last = attempt == attempts - 1
        maybe_sent = False
        try:
            response = _session().request(method, url, json=body, headers=headers, timeout=timeout)
        except requests.RequestException as exc:
            error: UpstreamError = UpstreamDown(
                "timed out" if isinstance(exc, requests.Timeout) else type(exc).__name__
            )
            maybe_sent = not _never_connected(exc)
        else:
            status = response.status_code
            if status in (401, 403):
                raise KeyRejected(f"HTTP {status}")
            if status == 429:
                wait = _retry_after(response)
                if last or wait is None or wait > settings.MJ_RETRY_AFTER_MAX:
                    raise RateLimited("HTTP 429", retry_after=wait)
                time.sleep(wait)
                continue
            if status >= 500:
                error = UpstreamDown(_body_hint(response))
                maybe_sent = True
            elif status >= 400:
                raise BadAnswer(_body_hint(response))
            else:
                try:
                    return response.json()
                except ValueError:
                    raise BadAnswer(_body_hint(response)) from None
        logger.warning("upstream %s %s failed (attempt %d): %s", method, path, attempt + 1, error)
        if last or (paid and maybe_sent):
            raise error
        time.sleep(settings.MJ_RETRY_BACKOFF * (2**attempt))
    raise UpstreamDown("no attempt made")  # pragma: no cover - loop always returns or raises


# ---- public API ------------------------------------------------------------


def _list_batch(ids: list[str]) -> list[TaskRecord]:
    answer = _request("POST", "/mj/task/list-by-condition", {"ids": ids})
    if not isinstance(answer, list):
        hint = answer.get("description", "") if isinstance(answer, dict) else type(answer).__name__
        raise BadAnswer(f"expected a JSON array, got {text(hint)[:120] or 'something else'}")
    return [record for item in answer if (record := normalise_task(item)) is not None]


def list_by_condition(ids: list[str]) -> list[TaskRecord]:
    """Ask for many tasks at once, in concurrent batches; unknown ids are absent.

    Duplicated tasks in the answer are folded (the last one wins). The first
    failing batch raises; a partial result is never returned as if whole.
    """
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    size = max(1, settings.MJ_BATCH_SIZE)
    batches = [unique[i : i + size] for i in range(0, len(unique), size)]
    if len(batches) == 1:
        results = [_list_batch(batches[0])]
    else:
        workers = min(len(batches), max(1, settings.MJ_CONCURRENCY))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mj-list") as pool:
            results = list(pool.map(_list_batch, batches))
    wanted = set(unique)
    found: dict[str, TaskRecord] = {}
    for records in results:
        for record in records:
            if record.id in wanted:
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
    task_id: str, *, prompt: str = "", mask_base64: str = "", notify_hook: str = ""
) -> SubmitResult:
    body = {"taskId": task_id, "prompt": prompt}
    if mask_base64:
        body["maskBase64"] = mask_base64
    if notify_hook:
        body["notifyHook"] = notify_hook
    return normalise_envelope(_request("POST", "/mj/submit/modal", body, paid=True))


def cancel(task_id: str) -> SubmitResult:
    path = f"/mj/task/{requests.utils.quote(task_id, safe='')}/cancel"
    return normalise_envelope(_request("POST", path, {}))
