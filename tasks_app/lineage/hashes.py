"""Reading job hashes out of what the relay sends: a task's own, and its parent's."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

# A job hash is a UUID today (36 characters); a relay's own may be any token of
# letters, digits and dashes that long. Buttons' other parts ("upsample_v6_2x_subtle",
# "50", "SOLO") are shorter or hold an underscore. Bounded: the column holds 64.
HASH_MAX_LENGTH = 64
_HASH = re.compile(
    r"(?=[A-Za-z-]*[0-9])[0-9A-Za-z-]{24,64}"
)  # a digit somewhere, not only before the first dash


def hash_in(custom_id: Any) -> str:
    """The job hash a customId carries ("" when none): the job whose button it is."""
    if not isinstance(custom_id, str) or not custom_id.startswith("MJ::"):
        return ""
    found = [part for part in custom_id.split("::") if _HASH.fullmatch(part)]
    return found[-1] if len(found) == 1 else ""


def own_hash(*, properties: Any, buttons: Any) -> str:
    """A task's own job hash: properties.messageHash when it looks like one,
    else the hash its buttons share (the most common, if a relay mixed them)."""
    stated = properties.get("messageHash") if isinstance(properties, dict) else None
    if isinstance(stated, str) and _HASH.fullmatch(stated.strip()):
        return stated.strip()
    found = Counter(hash_in(button.get("customId")) for button in buttons or () if isinstance(button, dict))
    found.pop("", None)
    return found.most_common(1)[0][0] if found else ""
