"""Tag names as a person types them: cleaned, bounded, one per case-folded key."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from tasks_app.text import clean_text

MAX_LENGTH = 40
MAX_AT_ONCE = 10  # names one request may add
# Commas (ASCII, fullwidth, ideographic) separate names; a name's inner spaces are kept, collapsed.
SEPARATORS = re.compile("[,，、]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


class TagError(ValueError):
    """What was typed is not a tag name: the message says why (shown as is)."""


def tag_key(name: str) -> str:
    return name.casefold()


def tag_names_parse(text: str) -> list[str]:
    """The names in `text` ("cat, 猫, night sky"), each cleaned; TagError when none or one is too long."""
    names: dict[str, str] = {}
    for raw in SEPARATORS.split(clean_text(text or "")[: MAX_LENGTH * MAX_AT_ONCE * 2]):
        name = " ".join(CONTROL.sub(" ", raw).split())
        if not name:
            continue
        if len(name) > MAX_LENGTH:
            raise TagError(
                _("A tag is at most %(n)d characters: “%(name)s…”") % {"n": MAX_LENGTH, "name": name[:20]}
            )
        names.setdefault(tag_key(name), name)
    if not names:
        raise TagError(_("Type a tag name."))
    if len(names) > MAX_AT_ONCE:
        raise TagError(_("At most %(n)d tags at once.") % {"n": MAX_AT_ONCE})
    return list(names.values())
