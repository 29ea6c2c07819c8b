"""Reference images a person uploads or pastes, made safe to send to the relay.

Checked before anything is sent: its size (MJ_UPLOAD_MAX_BYTES), that Pillow
reads it as PNG, JPEG or WebP (by its bytes, not its name or declared type),
its pixel count (MJ_IMAGE_MAX_PIXELS). Then re-encoded from its pixels alone:
turned upright by its EXIF orientation, at most REFERENCE_SIDE px a side, and
saved with no metadata (no EXIF, GPS, ICC profile or text chunks). The result
exists only in memory and in the create's request until its job sends it.
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from tasks_app.text import clean_text

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
ACCEPT = ",".join(FORMATS.values())
REFERENCE_SIDE = 2048  # Midjourney reads references far smaller; this bounds what is sent


class UploadError(ValueError):
    """This upload cannot be a reference image; the message names it and says why."""


@dataclass(frozen=True)
class Reference:
    data_url: str
    sha256: str  # of the cleaned bytes: what the double-submit key is made of
    width: int
    height: int


def reference_clean(upload) -> Reference:
    """A cleaned reference image from an uploaded file, or UploadError."""
    name = clean_text(str(getattr(upload, "name", "") or _("image")))[-60:]
    limit = settings.MJ_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise UploadError(
            _("“%(name)s” is %(size)s: each image may be at most %(max)s.")
            % {"name": name, "size": filesizeformat(upload.size), "max": filesizeformat(limit)}
        )
    data = upload.read(limit + 1)
    try:
        return _reencoded(data, limit)
    except UploadError as exc:
        raise UploadError(f"“{name}”: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise UploadError(_("“%(name)s” is not a PNG, JPEG or WebP image.") % {"name": name}) from None


def _reencoded(data: bytes, limit: int) -> Reference:
    formats = list(FORMATS)
    with Image.open(io.BytesIO(data), formats=formats) as probe:
        probe.verify()  # a truncated or corrupt file fails here, before decoding
    with Image.open(io.BytesIO(data), formats=formats) as image:
        if image.width * image.height > settings.MJ_IMAGE_MAX_PIXELS:
            raise UploadError(_("too many pixels."))
        fmt = image.format
        picture = ImageOps.exif_transpose(image)
        picture.thumbnail((REFERENCE_SIDE, REFERENCE_SIDE))
        picture = picture.convert("RGB" if fmt == "JPEG" or "A" not in picture.getbands() else "RGBA")
    picture.info = {}  # nothing of the original's metadata is written back
    out = io.BytesIO()
    if fmt == "JPEG":
        picture.save(out, "JPEG", quality=90, optimize=True)
    elif fmt == "WEBP":
        picture.save(out, "WEBP", quality=90)
    else:
        picture.save(out, "PNG", optimize=True)
    cleaned = out.getvalue()
    if len(cleaned) > limit:
        raise UploadError(_("still too large once re-encoded."))
    encoded = base64.b64encode(cleaned).decode()
    return Reference(
        data_url=f"data:{FORMATS[fmt]};base64,{encoded}",
        sha256=hashlib.sha256(cleaned).hexdigest(),
        width=picture.width,
        height=picture.height,
    )


def upload_limit() -> int:
    """The largest reference image accepted, in bytes (what the page tells the browser to check)."""
    return settings.MJ_UPLOAD_MAX_BYTES
