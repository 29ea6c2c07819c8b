"""Plain typed records of what the relay sends, read through one normalising layer.

Be liberal: a field of the wrong type degrades that field, never the record;
the whole payload is kept as received in `raw`, its texts cleaned of what no
database or page can hold (NUL, lone surrogates, nesting past 32 levels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mjdash.logs import known_secrets, redact_secrets
from tasks_app.relay.errors import BadAnswer
from tasks_app.relay.status import is_final
from tasks_app.text import clean_json

# Task IDs are ASCII digit strings (a page links each: the URL converter takes
# [0-9] only); the documented contract allows 64 characters. One submit answer
# may name several new tasks, "id1,id2", but never more than a button can start.
MIN_ID_DIGITS = 8
MAX_ID_LENGTH = 64
MAX_TASKS_PER_SUBMIT = 10
_TASK_ID = re.compile(rf"[0-9]{{{MIN_ID_DIGITS},{MAX_ID_LENGTH}}}")
# Discord's own limits on a message's buttons (components): 5 rows of 5, a
# custom_id of at most 100 characters (we allow some slack), a label of 80.
MAX_BUTTONS = 25
MAX_CUSTOM_ID_LENGTH = 256
MAX_LABEL_LENGTH = 80
MAX_EMOJI_LENGTH = 32


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
        return is_final(self.status)


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
        """The new tasks' IDs: some proxies start several jobs for one button, "id1,id2".

        Only task IDs, each once, at most MAX_TASKS_PER_SUBMIT: anything else
        (a path, markup, a UUID) would become a child no page can link to.
        """
        parts = (part.strip() for part in self.result.split(","))
        return tuple(dict.fromkeys(part for part in parts if is_task_id(part)))[:MAX_TASKS_PER_SUBMIT]


def is_task_id(value: str) -> bool:
    """ASCII digits, MIN_ID_DIGITS to MAX_ID_LENGTH of them (str.isdigit and \\d take any script's)."""
    return _TASK_ID.fullmatch(value) is not None


def text(value: Any) -> str:
    """Any JSON value as text; "" for null, objects, arrays and booleans."""
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
        url = text(item.get("url")) if isinstance(item, dict) else text(item)
        if url:
            urls.append(url)
    return tuple(urls)


def _buttons(value: Any) -> tuple[Button, ...]:
    """Buttons as Discord can have them: every card repeats them, so a relay's
    oversized ones (a customId no Discord button has, a novel as a label) are
    dropped or cut rather than sent to every page."""
    if not isinstance(value, list):
        return ()
    buttons = []
    for item in value:
        if len(buttons) == MAX_BUTTONS:
            break
        custom_id = text(item.get("customId")) if isinstance(item, dict) else ""
        if custom_id and len(custom_id) <= MAX_CUSTOM_ID_LENGTH:
            buttons.append(
                Button(
                    custom_id=custom_id,
                    emoji=text(item.get("emoji"))[:MAX_EMOJI_LENGTH],
                    label=text(item.get("label"))[:MAX_LABEL_LENGTH],
                    type=_int(item.get("type"), 2),
                    style=_int(item.get("style"), 2),
                )
            )
    return tuple(buttons)


def normalise_task(payload: Any) -> TaskRecord | None:
    """Read one task object as the proxy sent it; None when its id is not a task ID.

    Every text in it, nested ones too, is cleaned first (tasks_app/text.py), so
    `raw` is the payload as received minus what no database or page can hold.
    """
    if not isinstance(payload, dict):
        return None
    payload = _without_secrets(clean_json(payload))
    task_id = text(payload.get("id")).strip()
    if not is_task_id(task_id):
        return None
    properties = payload.get("properties")
    return TaskRecord(
        id=task_id,
        action=text(payload.get("action")).strip().upper(),
        status=text(payload.get("status")).strip().upper(),
        progress=_progress(payload.get("progress")),
        prompt=text(payload.get("prompt")),
        prompt_en=text(payload.get("promptEn")),
        description=text(payload.get("description")),
        fail_reason=text(payload.get("failReason")),
        image_url=text(payload.get("imageUrl")).strip(),
        image_urls=_urls(payload.get("imageUrls")),
        video_url=text(payload.get("videoUrl")).strip(),
        video_urls=_urls(payload.get("videoUrls")),
        submit_time=_time(payload.get("submitTime")),
        start_time=_time(payload.get("startTime")),
        finish_time=_time(payload.get("finishTime")),
        buttons=_buttons(payload.get("buttons")),
        custom_id=text(payload.get("customId")),
        bot_type=text(payload.get("botType")),
        state=text(payload.get("state")),
        mask_base64=text(payload.get("maskBase64")),
        properties=properties if isinstance(properties, dict) else {},
        raw=payload,
    )


# Keys whose value is ours and secret: relays echo the notifyHook URL we sent,
# token and all, in a task's properties. Never stored, shown or logged.
SECRET_KEYS = frozenset({"notifyhook"})


def _without_secrets(value: Any, secrets: list[str] | None = None) -> Any:
    """The answer without our secrets: hook keys dropped, and the API key (or
    the token, the secret key) redacted wherever a text echoes it, in any case
    or spacing. Only the values: a prompt saying "bearer" stays as written."""
    secrets = known_secrets() if secrets is None else secrets
    if isinstance(value, dict):
        return {
            k: _without_secrets(v, secrets) for k, v in value.items() if str(k).lower() not in SECRET_KEYS
        }
    if isinstance(value, list):
        return [_without_secrets(item, secrets) for item in value]
    if isinstance(value, str) and secrets:
        return redact_secrets(value, secrets)
    return value


def normalise_envelope(payload: Any) -> SubmitResult:
    if not isinstance(payload, dict):
        raise BadAnswer("submit answer is not a JSON object")
    payload = _without_secrets(clean_json(payload))
    properties = payload.get("properties")
    return SubmitResult(
        code=_int(payload.get("code"), -1),
        description=text(payload.get("description")),
        result=text(payload.get("result")).strip(),
        properties=properties if isinstance(properties, dict) else {},
        raw=payload,
    )
