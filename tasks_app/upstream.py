"""The only code that speaks HTTP to the Midjourney proxy.

It returns plain typed records (never Django models) read through one
normalising function, and turns every failure into one small family of
exceptions with a message a person can read. Settings are read at call
time so tests and demo mode can point it elsewhere.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from requests.adapters import HTTPAdapter

from mjdash.logs import redact

logger = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCEL"})
MAX_ID_LENGTH = 64


# ---- errors -----------------------------------------------------------------


class UpstreamError(Exception):
    """Base of every failure to get a usable answer from the proxy."""

    message = _("The relay did not give a usable answer.")

    def __init__(self, detail: str = ""):
        self.detail = detail[:300]
        super().__init__(str(self.message) + (f" ({self.detail})" if self.detail else ""))


class KeyRejected(UpstreamError):
    message = _("The relay rejected the API key (check MJ_API_KEY: wrong, expired or out of credit).")


class RateLimited(UpstreamError):
    message = _("The relay is rate limiting requests; try again shortly.")

    def __init__(self, detail: str = "", retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(detail)


class UpstreamDown(UpstreamError):
    message = _("The relay is unreachable or failing (server error or timeout).")


class BadAnswer(UpstreamError):
    message = _("The relay answered with something that is not a task list.")


# ---- records ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Button:
    custom_id: str
    emoji: str = ""
    label: str = ""
    type: int = 2
    style: int = 2


@dataclass(frozen=True, slots=True)
class TaskRecord:
    id: str
    action: str = ""
    status: str = ""
    progress: int = 0
    prompt: str = ""
    prompt_en: str = ""
    description: str = ""
    fail_reason: str = ""
    image_url: str = ""
    image_urls: tuple[str, ...] = ()
    video_url: str = ""
    video_urls: tuple[str, ...] = ()
    submit_time: datetime | None = None
    start_time: datetime | None = None
    finish_time: datetime | None = None
    buttons: tuple[Button, ...] = ()
    custom_id: str = ""
    bot_type: str = ""
    state: str = ""
    mask_base64: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The envelope every submit route answers with."""

    code: int
    description: str = ""
    result: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def task_ids(self) -> tuple[str, ...]:
        # Some proxies start several jobs for one button: "id1,id2".
        parts = (part.strip() for part in self.result.split(","))
        return tuple(part for part in parts if part and len(part) <= MAX_ID_LENGTH)


# ---- normalising ------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(float(str(value).strip().rstrip("%")))
    except (TypeError, ValueError, OverflowError):  # OverflowError: inf, 1e400
        return default


def _progress(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    number = _int(value)
    if isinstance(value, float) and 0 < value <= 1:
        number = round(value * 100)
    return max(0, min(100, number))


def _time(value: Any) -> datetime | None:
    millis = _int(value)
    if millis <= 0:
        return None
    if millis < 10**11:  # seconds, not milliseconds
        millis *= 1000
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _urls(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    urls = []
    for item in value:
        url = _text(item.get("url")) if isinstance(item, dict) else _text(item)
        if url:
            urls.append(url)
    return tuple(urls)


def _buttons(value: Any) -> tuple[Button, ...]:
    if not isinstance(value, list):
        return ()
    buttons = []
    for item in value:
        if isinstance(item, dict) and _text(item.get("customId")):
            buttons.append(
                Button(
                    custom_id=_text(item.get("customId")),
                    emoji=_text(item.get("emoji")),
                    label=_text(item.get("label")),
                    type=_int(item.get("type"), 2),
                    style=_int(item.get("style"), 2),
                )
            )
    return tuple(buttons)


def normalise_task(payload: Any) -> TaskRecord | None:
    """Read one task object as the proxy sent it; None when it has no usable id."""
    if not isinstance(payload, dict):
        return None
    task_id = _text(payload.get("id")).strip()
    if not task_id or len(task_id) > MAX_ID_LENGTH:
        return None
    properties = payload.get("properties")
    return TaskRecord(
        id=task_id,
        action=_text(payload.get("action")).strip().upper(),
        status=_text(payload.get("status")).strip().upper(),
        progress=_progress(payload.get("progress")),
        prompt=_text(payload.get("prompt")),
        prompt_en=_text(payload.get("promptEn")),
        description=_text(payload.get("description")),
        fail_reason=_text(payload.get("failReason")),
        image_url=_text(payload.get("imageUrl")).strip(),
        image_urls=_urls(payload.get("imageUrls")),
        video_url=_text(payload.get("videoUrl")).strip(),
        video_urls=_urls(payload.get("videoUrls")),
        submit_time=_time(payload.get("submitTime")),
        start_time=_time(payload.get("startTime")),
        finish_time=_time(payload.get("finishTime")),
        buttons=_buttons(payload.get("buttons")),
        custom_id=_text(payload.get("customId")),
        bot_type=_text(payload.get("botType")),
        state=_text(payload.get("state")),
        mask_base64=_text(payload.get("maskBase64")),
        properties=properties if isinstance(properties, dict) else {},
        raw=payload,
    )


def normalise_envelope(payload: Any) -> SubmitResult:
    if not isinstance(payload, dict):
        raise BadAnswer("submit answer is not a JSON object")
    properties = payload.get("properties")
    return SubmitResult(
        code=_int(payload.get("code"), -1),
        description=_text(payload.get("description")),
        result=_text(payload.get("result")).strip(),
        properties=properties if isinstance(properties, dict) else {},
        raw=payload,
    )


# ---- transport --------------------------------------------------------------

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
        raise BadAnswer(f"expected a JSON array, got {_text(hint)[:120] or 'something else'}")
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


def submit_imagine(prompt: str, *, bot_type: str = "MID_JOURNEY", notify_hook: str = "") -> SubmitResult:
    body = {"prompt": prompt, "botType": bot_type, "base64Array": [], "notifyHook": notify_hook, "state": ""}
    return normalise_envelope(_request("POST", "/mj/submit/imagine", body, paid=True))


def cancel(task_id: str) -> SubmitResult:
    path = f"/mj/task/{requests.utils.quote(task_id, safe='')}/cancel"
    return normalise_envelope(_request("POST", path, {}))
