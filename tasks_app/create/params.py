"""Midjourney's `--name value` parameters, read from and written into a prompt.

The one parser behind the Create form's controls (aspect ratio, version,
stylize, chaos, quality, seed, no, tile, raw): the controls show what the
prompt says, and a changed control rewrites only its own parameter, as plain
text, so a typed prompt and the controls never disagree. Parameters the
controls do not know (`--weird 250`, `--iw 2`) are kept as typed, in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The name each control writes, and the other spellings Midjourney accepts.
ALIASES = {
    "aspect": "ar",
    "s": "stylize",
    "c": "chaos",
    "quality": "q",
    "version": "v",
}
CONTROLS = ("ar", "version", "stylize", "chaos", "q", "seed", "no", "tile", "raw")
VERSIONS = ("7", "6.1", "6", "5.2", "niji 6", "niji 5")
QUALITIES = (".25", ".5", "1", "2", "4")
ASPECTS = ("1:1", "4:3", "3:2", "16:9", "21:9", "3:4", "2:3", "9:16")
_PARAM = re.compile(r"(?:^|\s)--([A-Za-z][\w-]*)")
_RATIO = re.compile(r"[1-9]\d{0,2}:[1-9]\d{0,2}")
_INT = re.compile(r"\d{1,10}")
LIMITS = {"stylize": 1000, "chaos": 100, "seed": 4294967295}
LABELS = {
    "ar": gettext_lazy("Aspect ratio"),
    "version": gettext_lazy("Version"),
    "stylize": gettext_lazy("Stylize"),
    "chaos": gettext_lazy("Chaos"),
    "q": gettext_lazy("Quality"),
    "seed": gettext_lazy("Seed"),
    "no": gettext_lazy("No (leave out)"),
}


class ParamError(ValueError):
    """A control's value Midjourney would refuse; the message names the control."""


@dataclass
class Prompt:
    """A prompt as text plus its parameters, in the order typed: [(name, value)]."""

    text: str
    params: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)

    def render(self) -> str:
        parts = [self.text.strip()] + [f"--{name} {value}".strip() for name, value in self.params]
        return " ".join(part for part in parts if part)


def parse(prompt: str) -> Prompt:
    """Split at the first ` --name`: the words before it, then each parameter and its value."""
    found = list(_PARAM.finditer(prompt))
    if not found:
        return Prompt(prompt.strip())
    params = []
    for n, match in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(prompt)
        name = match.group(1).lower()
        params.append((ALIASES.get(name, name), " ".join(prompt[match.end() : end].split())))
    return Prompt(prompt[: found[0].start()].strip(), params)


def controls(prompt: str) -> dict[str, str | bool]:
    """What each control shows for this prompt ("" or False: not set)."""
    parsed = parse(prompt)
    version = parsed.get("v")
    niji = parsed.get("niji")
    style = parsed.get("style") or ""
    return {
        "ar": parsed.get("ar") or "",
        "version": f"niji {niji}".strip() if niji is not None else (version or ""),
        "stylize": parsed.get("stylize") or "",
        "chaos": parsed.get("chaos") or "",
        "q": parsed.get("q") or "",
        "seed": parsed.get("seed") or "",
        "no": parsed.get("no") or "",
        "tile": parsed.get("tile") is not None,
        "raw": "raw" in style.split() or parsed.get("raw") is not None,
    }


def apply(prompt: str, values: dict[str, str | bool | None], *, clear_unset: bool = True) -> str:
    """The prompt with each control's value written in as `--name value`.

    A control set replaces its parameter where it stands (or adds it at the
    end); with clear_unset, a control left empty removes it. Values are
    checked first (ParamError): nothing half-applied.
    """
    wanted = {name: _checked(name, values.get(name)) for name in CONTROLS if name in values}
    parsed = parse(prompt)
    for name, value in wanted.items():
        if value in ("", False, None) and not clear_unset:
            continue
        if name == "version":
            _set(parsed, "v", value if value and not value.startswith("niji") else None)
            _set(
                parsed,
                "niji",
                value.removeprefix("niji").strip() if value and value.startswith("niji") else None,
            )
        elif name == "tile":
            _set(parsed, "tile", "" if value else None)
        elif name == "raw":
            _set(parsed, "raw", None)
            _set(parsed, "style", "raw" if value else None)
        else:
            _set(parsed, name, value or None)
    return parsed.render()


def _set(parsed: Prompt, name: str, value: str | None) -> None:
    """Replace the parameter in place (its first occurrence; later repeats go), add it, or remove it."""
    kept, placed = [], False
    for key, old in parsed.params:
        if key != name:
            kept.append((key, old))
        elif value is not None and not placed:
            kept.append((key, value))
            placed = True
    if value is not None and not placed:
        kept.append((name, value))
    parsed.params = kept


def _checked(name: str, value) -> str | bool:
    if name in ("tile", "raw"):
        return value in (True, "on", "1", "true")
    text = " ".join(str(value or "").split())
    if not text:
        return ""
    if "--" in text:
        raise ParamError(_("%(name)s: a value cannot hold “--”.") % {"name": LABELS[name]})
    if name == "ar" and not _RATIO.fullmatch(text):
        raise ParamError(_("Aspect ratio: write it as width:height, e.g. 3:2."))
    if name == "version" and text not in VERSIONS:
        raise ParamError(_("Version: choose one of the listed versions."))
    if name == "q" and text not in QUALITIES:
        raise ParamError(_("Quality: choose .25, .5, 1, 2 or 4."))
    if name in LIMITS and not (_INT.fullmatch(text) and int(text) <= LIMITS[name]):
        raise ParamError(
            _("%(name)s: a whole number from 0 to %(max)d.") % {"name": LABELS[name], "max": LIMITS[name]}
        )
    if name == "no" and len(text) > 200:
        raise ParamError(_("No: at most 200 characters."))
    return text
