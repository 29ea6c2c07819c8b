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
