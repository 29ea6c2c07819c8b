"""Text that every database and page can hold.

PostgreSQL refuses NUL (U+0000) in text and jsonb; a lone surrogate (U+D800..
U+DFFF, which a JSON escape such as "\\ud800" yields) cannot be encoded as UTF-8
by any driver or page; NaN and Infinity are not JSON and jsonb refuses them;
JSON nested thousands deep breaks encoders. One bad field used to give a 500 on
every page holding its task. So text from the relay is cleaned before it is
stored (relay/records.py), and a person's text holding such characters is
refused before any paid call (clean_prompt).
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext_lazy as _

MAX_DEPTH = 32
TOO_DEEP = f"(nested deeper than {MAX_DEPTH} levels: not kept)"
REPLACEMENT = "\ufffd"
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


class UnsafeText(ValueError):
    """Text holding characters no database stores: the person must remove them."""

    def __init__(self):
        super().__init__(
            _("The prompt holds characters that cannot be stored or sent (NUL or a lone surrogate).")
        )


def clean_text(value: str) -> str:
    """NUL removed and each lone surrogate replaced by U+FFFD; the same object when already clean."""
    if not _UNSAFE.search(value):
        return value
    return _UNSAFE.sub(lambda found: "" if found.group() == "\x00" else REPLACEMENT, value)


def clean_json(value: Any, depth: int = 0) -> Any:
    """Decoded JSON fit for jsonb: texts and keys cleaned, NaN/Infinity as null,
    and any object or array deeper than MAX_DEPTH replaced by a note saying so."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item, depth + 1) for item in value]
    return value


def clean_prompt(prompt: str) -> str:
    """A prompt a person gave, unchanged; UnsafeText when it holds what clean_text would remove."""
    if clean_text(prompt) != prompt:
        raise UnsafeText
    return prompt
