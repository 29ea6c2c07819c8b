"""The mask Vary (Region) sends: a black-and-white PNG the size of the image.

A person draws (or types) rectangles in image pixels, or uploads a mask; both
become the same thing the relay wants: white where the region is redrawn,
black elsewhere, as a `data:image/png;base64,...` URL. Typed rectangles keep
the form usable with no script at all.
"""

from __future__ import annotations

import base64
import io
import re

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, UnidentifiedImageError

DEFAULT_SIZE = 1024  # Midjourney's single-image size; a grid is 2048
MIN_SIDE, MAX_SIDE = 64, 8192
MAX_RECTS = 50
UPLOAD_FORMATS = ["PNG", "WEBP", "JPEG", "GIF", "BMP"]
_NUMBER = r"\s*(-?\d+(?:\.\d+)?)\s*"
_RECT = re.compile(",".join([_NUMBER] * 4))


class MaskError(ValueError):
    """The rectangles or the upload cannot make a mask; the message says why."""


def image_size(width, height) -> tuple[int, int]:
    """The size the form says the image has, bounded; the default when it says nothing."""
    try:
        size = (int(float(width)), int(float(height)))
    except (TypeError, ValueError, OverflowError):
        return DEFAULT_SIZE, DEFAULT_SIZE
    if not all(MIN_SIDE <= side <= MAX_SIDE for side in size):
        return DEFAULT_SIZE, DEFAULT_SIZE
    return size


def parse_rects(text: str, *, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Read "x,y,w,h; x,y,w,h" (image pixels), clipped to the image."""
    width, height = size
    rects = []
    for part in filter(None, (p.strip() for p in re.split(r"[;\n]+", text or ""))):
        found = _RECT.fullmatch(part)
        if found is None:
            raise MaskError(_("“%(part)s” is not a rectangle: write x,y,width,height.") % {"part": part[:40]})
        try:
            x, y, w, h = (round(float(v)) for v in found.groups())
        except OverflowError:
            raise MaskError(
                _("Rectangle “%(part)s” is far outside the image.") % {"part": part[:40]}
            ) from None
        left, top = max(0, x), max(0, y)
        right, bottom = min(width, x + w), min(height, y + h)
        if right <= left or bottom <= top:
            raise MaskError(_("Rectangle “%(part)s” is empty or outside the image.") % {"part": part[:40]})
        rects.append((left, top, right - left, bottom - top))
    if len(rects) > MAX_RECTS:
        raise MaskError(_("At most %(n)d rectangles.") % {"n": MAX_RECTS})
    return rects


def mask_from_rects(text: str, *, size: tuple[int, int]) -> str:
    rects = parse_rects(text, size=size)
    if not rects:
        raise MaskError(_("Draw or type at least one rectangle."))
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for x, y, w, h in rects:
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=255)
    return _data_url(mask)


def mask_from_upload(upload) -> str:
    """Any image a person made: pixels brighter than mid-grey become white, the rest black."""
    if upload.size > settings.MJ_MASK_MAX_BYTES:
        raise MaskError(_("The mask image is too large."))
    try:
        with Image.open(upload, formats=UPLOAD_FORMATS) as image:
            if image.width * image.height > MAX_SIDE * MAX_SIDE:
                raise MaskError(_("The mask image is too large."))
            grey = image.convert("L")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise MaskError(_("The mask is not an image that can be read.")) from exc
    return _data_url(grey.point(lambda value: 255 if value >= 128 else 0))


def _data_url(mask: Image.Image) -> str:
    buffer = io.BytesIO()
    mask.convert("L").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
