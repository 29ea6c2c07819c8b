"""Pillow's part: open what was downloaded safely, build thumbnails and crops.

Pillow reads only an explicit list of raster formats. Every picture is
judged from its header before a pixel is decoded: more pixels than
MJ_IMAGE_MAX_PIXELS (a decompression bomb: 88 megapixels fit in a PNG of a
few hundred KB and took a worker to 893 MB) or a shape more extreme than
MJ_IMAGE_MAX_ASPECT (a 1x100,000 "grid" whose quadrants are 0 px wide) is
refused. So nothing decoded here is larger than MJ_IMAGE_MAX_PIXELS x 4 bytes,
which bounds a worker's memory. A picture that still cannot be decoded
(truncated, corrupt) is refused too, never left to crash its job.
"""

from __future__ import annotations

import base64
import io
from contextlib import contextmanager

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from tasks_app.images.errors import ImageRefused

FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
# Longest side of the large rendition the detail page and the lightbox show
# (the 512 px thumbnail would be stretched there; the original may be MBs).
LARGE_SIDE = 2048
WEBP_MAX_SIDE = 16383  # the WebP format's own limit


def thumb_build(source, *, size: int) -> tuple[bytes, tuple[int, int], str]:
    """(WebP bytes, (width, height), tiny blurred preview as a data URI).

    draft() lets a JPEG decode at a fraction of its size; thumbnail() with a
    reducing gap of 1 shrinks by the largest whole factor with a cheap box
    reduce (2048 -> 512 in one step) and resamples only what is left, so a
    build costs little more than one plain decode.
    """
    with _decoding(), open_image(source) as im:
        im.draft("RGB", (size, size))
        im.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=1.0)
        im = _web_mode(im)
        out = io.BytesIO()
        im.save(out, "WEBP", quality=80, method=2)
        tiny = im.convert("RGB")
        tiny.thumbnail((16, 16), Image.Resampling.BOX)
        small = io.BytesIO()
        tiny.save(small, "WEBP", quality=40)
    preview = "data:image/webp;base64," + base64.b64encode(small.getvalue()).decode()
    return out.getvalue(), im.size, preview


def large_build(source, *, size: int) -> bytes:
    """The detail page's and the lightbox's rendition: the original's pixels up
    to `size` on the longest side, as WebP (a 2048 px PNG grid of several MB
    becomes a few hundred KB that still fills a large screen)."""
    with _decoding(), open_image(source) as im:
        im.draft("RGB", (size, size))
        im.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
        im = _web_mode(im)
        out = io.BytesIO()
        # method 0: the fastest encoder, a third of method 2's time for about the same bytes.
        im.save(out, "WEBP", quality=80, method=0)
    return out.getvalue()


def quadrants_build(source) -> list[bytes]:
    """The four quadrants of a grid (in Midjourney's reading order) as WebP bytes,
    from one decode of the picture."""
    with _decoding(), open_image(source) as im:
        im = _web_mode(im)
        half_w, half_h = im.width // 2, im.height // 2
        found = []
        for n in range(1, 5):
            left, top = (n - 1) % 2 * half_w, (n - 1) // 2 * half_h
            crop = im.crop((left, top, left + half_w, top + half_h))
            if max(crop.size) > WEBP_MAX_SIDE:  # possible only with limits raised past the defaults
                crop.thumbnail((WEBP_MAX_SIDE, WEBP_MAX_SIDE))
            out = io.BytesIO()
            crop.save(out, "WEBP", quality=85, method=2)
            found.append(out.getvalue())
    return found


def describe(source) -> tuple[str, int, int]:
    """(format, width, height) of an image file, from its header alone; refused
    (ImageRefused) when it is not a picture this project decodes."""
    with open_image(source) as im:
        return im.format, im.width, im.height


def open_image(source) -> Image.Image:
    """Pillow with an explicit list of raster formats; the pixel count and the
    aspect ratio are checked from the header, before anything is decoded."""
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        im = Image.open(source, formats=FORMATS)
    except Image.DecompressionBombError as exc:  # past twice Image.MAX_IMAGE_PIXELS (apps.py)
        raise ImageRefused("bomb", str(exc)[:80]) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("not_image") from None
    width, height = im.size
    if width * height > settings.MJ_IMAGE_MAX_PIXELS:
        im.close()
        raise ImageRefused("bomb", f"{width}x{height}")
    if max(width, height) > settings.MJ_IMAGE_MAX_ASPECT * max(1, min(width, height)):
        im.close()
        raise ImageRefused("aspect", f"{width}x{height}")
    return im


@contextmanager
def _decoding():
    """What Pillow raises on data it cannot decode (truncated, corrupt, a size its
    encoder refuses), and memory it cannot get, as a refusal of this one image."""
    try:
        yield
    except (OSError, SyntaxError, ValueError, MemoryError, Image.DecompressionBombError):
        raise ImageRefused("not_image", "cannot be decoded") from None


def _web_mode(im: Image.Image) -> Image.Image:
    try:
        if im.mode in ("RGB", "RGBA"):
            im.load()
            return im
        alpha = "A" in im.getbands() or "transparency" in im.info
        return im.convert("RGBA" if alpha else "RGB")
    except (OSError, SyntaxError, ValueError):  # truncated or corrupt data
        raise ImageRefused("not_image", "cannot be decoded") from None
