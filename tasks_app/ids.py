"""Reading task IDs out of whatever a person pastes.

Accepts IDs separated by newlines, commas, spaces or tabs, a JSON array, or
text that holds IDs among other words (a curl command, a log line). Keeps the
first occurrence of each ID, in order, and says which tokens it rejected and
why.
"""

import json
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tasks_app.relay import MAX_ID_LENGTH, MIN_ID_DIGITS, is_task_id

# A long digit run inside a bigger token: '"ids":["1743326750223591"]', 'task/174.../fetch'.
# The ID is [0-9], never \d: \d (and str.isdigit) take Arabic-Indic, fullwidth and
# other scripts' digits, which no relay knows; next to one, the run is not an ID.
# Task IDs are 16 or more digits; a 13-15 digit run inside a bigger token is a
# millisecond timestamp of a log line ('"ts":1743326750223,', 'time=1743326750223').
EMBEDDED_ID_RE = re.compile(r"(?<![\dA-Za-z])[0-9]{16,32}(?![\dA-Za-z])")
EMBEDDED_TIME_RE = re.compile(r"(?<![\dA-Za-z])[0-9]{13,15}(?![\dA-Za-z])")
# A bare 13-digit number right after one of these words is a time, not an ID.
TIME_WORDS = {"time", "ts", "timestamp", "at", "created", "updated", "submittime", "starttime", "finishtime"}
SEPARATORS_RE = re.compile(r"[\s,;|]+")
EDGE_PUNCTUATION = "\"'`()[]{}<>.:=!?"


@dataclass
class ParsedIds:
    ids: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (token, reason)
    duplicates: int = 0
    ignored_words: int = 0


def parse_ids(text: str) -> ParsedIds:
    parsed = ParsedIds()
    seen: set[str] = set()
    previous = ""
    for token in _tokens(text):
        if _is_timestamp(token, previous):
            parsed.ignored_words += 1
            previous = token
            continue
        previous = token
        for candidate, reason in _classify(token):
            if reason:
                parsed.rejected.append((candidate, reason))
            elif candidate is None:
                parsed.ignored_words += 1
            elif candidate in seen:
                parsed.duplicates += 1
            else:
                seen.add(candidate)
                parsed.ids.append(candidate)
    return parsed


def _tokens(text: str) -> list[str]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # RecursionError: thousands of "[" pasted
            data = None
        if isinstance(data, list):
            return [str(item).strip() for item in data if str(item).strip()]
    return [token for token in SEPARATORS_RE.split(stripped) if token]


def _is_timestamp(token: str, previous: str) -> bool:
    """A log line's millisecond time: '"ts":1743326750223,' or 'time: 1743326750223'."""
    bare = token.strip(EDGE_PUNCTUATION)
    if bare.isdigit():
        word = re.sub(r"[^a-z]", "", previous.lower())
        return len(bare) == 13 and word in TIME_WORDS
    return bool(EMBEDDED_TIME_RE.search(token)) and not EMBEDDED_ID_RE.search(token)


def _classify(token: str) -> list[tuple[str | None, str]]:
    """(id, "") for an ID, (None, "") for an ordinary word, (token, reason) to reject."""
    bare = token.strip(EDGE_PUNCTUATION)
    if is_task_id(bare):
        return [(bare, "")]
    embedded = EMBEDDED_ID_RE.findall(token)
    if embedded:
        return [(found, "") for found in embedded]
    if not any(char.isdigit() for char in bare):  # any script's digits: such a word is reported
        return [(None, "")]
    ascii_digits = bare.isascii() and bare.isdigit()
    if ascii_digits and len(bare) < MIN_ID_DIGITS:
        return [(bare, _("too short: task IDs have at least %(n)d digits") % {"n": MIN_ID_DIGITS})]
    if ascii_digits:
        return [(bare[:40] + "…", _("too long: more than %(n)d digits") % {"n": MAX_ID_LENGTH})]
    shown = bare if len(bare) <= 40 else bare[:40] + "…"
    return [(shown, _("not a task ID: IDs are digits only"))]
