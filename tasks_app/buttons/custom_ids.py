"""Reading a button's customId: the one place that knows its shape.

The relay's customIds look like `MJ::JOB::upsample::2::<hash>` or
`MJ::Inpaint::1::<hash>::SOLO`. They are read, never built: the relay's own
string is what a press sends back.
"""

from __future__ import annotations

from dataclasses import dataclass

QUADRANT_OPS = ("upsample", "variation")


@dataclass(frozen=True, slots=True)
class CustomId:
    family: str  # JOB, Inpaint, Outpaint, CustomZoom, BOOKMARK, ...; "" when not Midjourney's
    op: str  # of a JOB: upsample, variation, reroll, pan_left, ...; else ""
    index: str  # the number after a JOB's op (a quadrant or a variant); else ""
    solo: bool  # ends in ::SOLO: acts on an upscaled single image
    quadrant: int | None  # 1-4 for a grid's U n / V n, else None


def parse_custom_id(custom_id: object) -> CustomId:
    parts = str(custom_id or "").split("::")
    if len(parts) < 2 or parts[0] != "MJ":
        return CustomId("", "", "", False, None)
    family, solo = parts[1], parts[-1] == "SOLO"
    op = parts[2] if family == "JOB" and len(parts) > 2 else ""
    index = parts[3] if op and len(parts) > 3 else ""
    # A grid's U n / V n is exactly MJ::JOB::<op>::<n>::<hash>.
    on_quadrant = op in QUADRANT_OPS and len(parts) == 5 and index in ("1", "2", "3", "4")
    return CustomId(family, op, index, solo, int(index) if on_quadrant else None)


# A part this long is the job's hash (a UUID), the same in every button of a task.
HASH_LENGTH = 24


def short_custom_id(custom_id: object) -> str:
    """A customId without what every button of a Midjourney task shares (the
    "MJ" and "JOB" heads, the job's hash): `MJ::JOB::upsample::2::<hash>` is
    `upsample::2`. What a card's button posts: nine buttons repeating one
    36-character hash were a third of a card's weight. The task's cached
    buttons still supply the whole customId sent to the relay (find_custom_id)."""
    parts = str(custom_id or "").split("::")
    if parts[0] == "MJ":
        parts = parts[2:] if len(parts) > 2 and parts[1] == "JOB" else parts[1:]
    return "::".join(part for part in parts if len(part) < HASH_LENGTH)


def find_custom_id(buttons: object, posted: str) -> str | None:
    """The one customId of these cached buttons that `posted` names, whole or
    short; None when none does, or more than one."""
    if not posted or not isinstance(buttons, list):
        return None
    known = [str(b["customId"]) for b in buttons if isinstance(b, dict) and b.get("customId")]
    found = {custom_id for custom_id in known if posted in (custom_id, short_custom_id(custom_id))}
    return found.pop() if len(found) == 1 else None


# The action a button's task will have, by the customId's family or JOB op (the
# relay's names); "" for a button we do not know. A new child card shows it
# until the relay's first answer says.
_FAMILY_ACTIONS = {"Outpaint": "ZOOM", "Inpaint": "INPAINT", "CustomZoom": "CUSTOM_ZOOM"}
_OP_ACTIONS = (
    ("upsample", "UPSCALE"),
    ("variation", "VARIATION"),
    ("low_variation", "VARIATION"),
    ("high_variation", "VARIATION"),
    ("reroll", "REROLL"),
    ("pan_", "PAN"),
)


def action_of(custom_id: object) -> str:
    parsed = parse_custom_id(custom_id)
    if parsed.family != "JOB":
        return _FAMILY_ACTIONS.get(parsed.family, "")
    return next((action for prefix, action in _OP_ACTIONS if parsed.op.startswith(prefix)), "")
