"""Group a task's buttons into the rows Midjourney shows them in.

Read from the customId only (never built from it): a grid gets its U row
(with 🔄, as on Discord) and V row; an upscale gets Upscale / Vary / Zoom / Pan
rows and ❤️. Any button we do not recognise lands in an "other" row, so
nothing the relay sends is ever dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from tasks_app.buttons.custom_ids import parse_custom_id, short_custom_id

ROW_ORDER = ("u", "v", "upscale", "vary", "zoom", "pan", "extra", "other")
ROW_NAMES = {
    "u": _("Upscale"),
    "v": _("Variations"),
    "upscale": _("Upscale"),
    "vary": _("Vary"),
    "zoom": _("Zoom"),
    "pan": _("Pan"),
    "extra": _("Favourite"),
    "other": _("Other"),
}

USED_STYLE = 3  # Discord's "success" style: how the relay marks a button pressed before
SPOKEN = {"reroll": _("Reroll"), "bookmark": _("Bookmark")}
FAMILY_ROWS = {"Inpaint": "vary", "Outpaint": "zoom", "CustomZoom": "zoom", "BOOKMARK": "extra"}


@dataclass(frozen=True)
class ButtonView:
    custom_id: str
    label: str
    emoji: str
    used: bool

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.emoji, self.label) if part)

    @property
    def value(self) -> str:
        """What the button posts: its customId without the job hash (custom_ids.short_custom_id)."""
        return short_custom_id(self.custom_id)

    @property
    def spoken(self) -> str:
        """A name for a button the relay labels with an emoji only (🔄 is "Reroll"):
        from its customId ("MJ::JOB::reroll::0::…"); empty when it has a label."""
        if self.label:
            return ""
        parts = self.custom_id.split("::")
        kind = parts[2] if len(parts) > 2 else ""
        return str(SPOKEN.get(kind.lower(), kind.replace("_", " ").capitalize() or _("Button")))


@dataclass(frozen=True)
class ButtonRow:
    key: str
    name: str
    buttons: tuple[ButtonView, ...]


def button_rows(buttons: Any) -> list[ButtonRow]:
    rows: dict[str, list[ButtonView]] = {key: [] for key in ROW_ORDER}
    for button in buttons if isinstance(buttons, list) else ():
        if not isinstance(button, dict) or not button.get("customId"):
            continue
        custom_id = str(button["customId"])
        rows[row_of(custom_id)].append(
            ButtonView(
                custom_id=custom_id,
                label=str(button.get("label") or ""),
                emoji=str(button.get("emoji") or ""),
                used=str(button.get("style")) == str(USED_STYLE),
            )
        )
    return [ButtonRow(key, ROW_NAMES[key], tuple(items)) for key, items in rows.items() if items]


def button_label(buttons: Any, custom_id: str) -> str:
    """What a person saw on the button: its emoji and label as the relay gave them."""
    for row in button_rows(buttons):
        for button in row.buttons:
            if button.custom_id == custom_id:
                return button.text
    return ""


def row_of(custom_id: str) -> str:
    parsed = parse_custom_id(custom_id)
    if parsed.op:
        op = parsed.op
        if op == "reroll" or (op == "upsample" and not parsed.solo):
            return "u"
        if op.startswith("upsample"):
            return "upscale"
        if op in ("variation", "low_variation", "high_variation"):
            return "vary" if parsed.solo else "v"
        if op.startswith("pan_"):
            return "pan"
        return "other"
    return FAMILY_ROWS.get(parsed.family, "other")
