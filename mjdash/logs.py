"""Logging for several processes behind a load balancer: one JSON line per event
on stdout, each carrying the request ID, and never a secret.

The request ID lives in a context variable set by `mjdash.middleware`, so every
record logged while serving a request (by us, Django or a library) carries it.
Redaction runs on the handler, where every record passes, whichever logger
it came from: it hides the relay's API key, the notify-hook token (it is part
of a URL path), the secret key, Authorization header values and passwords
inside URLs, in the message, its arguments and any traceback.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[REDACTED]"
# "Authorization: Bearer x", "'Authorization': 'Bearer x'", "authorization=x", and a bare "Bearer x".
_AUTH_RE = re.compile(
    r"""(?P<head>authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token)\s+)?[^\s"',}]+"""
    r"""|(?P<scheme>\bbearer\s+)[A-Za-z0-9._~+/=-]+""",
    re.IGNORECASE,
)
_URL_PASSWORD_RE = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+(?=@)", re.IGNORECASE)


# What a relay may put between a secret's characters when it echoes it:
# spaces, dashes, dots and the like, zero-width characters.
_GAP = r"[\s\-_.:;,|/\\'\"`*~+\u00b7\u200b-\u200d\u2060\ufeff]*"
FUZZY_MIN = 8  # shorter secrets are matched only as written: spaced out, they match prose


@functools.lru_cache(maxsize=32)
def _secret_pattern(secret: str) -> re.Pattern | None:
    """The secret in any letter case, with any gap between its characters."""
    core = [c for c in secret if not re.fullmatch(_GAP, c)]
    if len(core) < FUZZY_MIN:
        return None
    return re.compile(_GAP.join(re.escape(c) for c in core), re.IGNORECASE)


def redact_secrets(text: str, secrets: list[str] | None = None) -> str:
    """The text with every known secret value replaced, however echoed: as
    written, case-changed ("SK-TEST-…") or spaced out ("s k - t e s t …")."""
    for secret in known_secrets() if secrets is None else secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
            pattern = _secret_pattern(secret)
            if pattern is not None:
                text = pattern.sub(REDACTED, text)
    return text


def redact(text: str, secrets: list[str] | None = None) -> str:
    """The text with every known secret value and credential-looking part replaced."""
    text = redact_secrets(text, secrets)
    text = _AUTH_RE.sub(lambda m: (m.group("head") or m.group("scheme")) + REDACTED, text)
    return _URL_PASSWORD_RE.sub(lambda m: m.group("head") + REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record so that no formatter can print a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = known_secrets()
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, still redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message, secrets), ()
        for key in ("path", "method"):  # request extras the JSON formatter prints
            if isinstance(getattr(record, key, None), str):
                setattr(record, key, redact(getattr(record, key), secrets))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
            record.exc_info = None  # the redacted text stands in for it
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request_id, message (+ exc)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key in ("method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def known_secrets() -> list[str]:
    names = ("MJ_API_KEY", "MJ_NOTIFY_TOKEN", "SECRET_KEY", "MJ_MEDIA_SECRET_ACCESS_KEY")
    variables = (
        "MJ_API_KEY",
        "MJ_NOTIFY_TOKEN",
        "DJANGO_SECRET_KEY",
        "MJ_MEDIA_SECRET_ACCESS_KEY",
        "AWS_SECRET_ACCESS_KEY",  # the bucket's, when boto3 finds it by itself
    )
    values = {os.environ.get(name, "") for name in variables}
    try:
        from django.conf import settings

        if settings.configured:
            values.update(str(getattr(settings, name, "") or "") for name in names)
    except Exception:  # logging must work before and without Django
        pass
    # Longest first, so a key that contains another is hidden whole.
    return sorted((v for v in values if v), key=len, reverse=True)
