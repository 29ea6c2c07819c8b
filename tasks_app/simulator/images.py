"""Fake result images: photo-like PNGs heavy enough (megabytes) to exercise the archive.

Rendered lazily, deterministic from a seed, and cached as bytes so a page full
of thumbnails does not re-render. Signed, expiring URLs mimic Discord's CDN.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import random
import threading
from collections import OrderedDict

from PIL import Image, ImageDraw, ImageFilter, ImageFont

GRID_SIZE = 2048
SINGLE_SIZE = 1024
PREVIEW_SIZE = 512
SHAPES = ("ellipse", "rectangle", "triangle", "diamond")


class ImageCache:
    """PNG bytes by key, rendered once; bounded so a long demo cannot eat memory."""

    def __init__(self, max_items: int = 48):
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._max = max_items

    def png(self, seed: int, quad: int | None, kind: str) -> bytes:
        key = (seed, quad, kind)
        with self._lock:  # one render at a time: also makes "once per key" hold under load
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            data = render(seed, quad, kind)
            self._items[key] = data
            while len(self._items) > self._max:
                self._items.popitem(last=False)
            return data


def render(seed: int, quad: int | None, kind: str) -> bytes:
    """kind: "grid" (2048, four quadrants), "single" (1024, one quadrant), "preview<N>"
    (the grid small and blurred, sharper as the progress N in percent grows)."""
    if kind == "single":
        image = _tile(seed, quad or 1, SINGLE_SIZE)
    else:
        image = Image.new("RGB", (GRID_SIZE, GRID_SIZE))
        half = GRID_SIZE // 2
        for n in range(1, 5):
            image.paste(_tile(seed, n, half), ((n - 1) % 2 * half, (n - 1) // 2 * half))
        if kind.startswith("preview"):
            blur = max(2, 12 - int(kind.removeprefix("preview") or 50) // 10)
            image = image.resize((PREVIEW_SIZE, PREVIEW_SIZE)).filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _tile(seed: int, quad: int, size: int) -> Image.Image:
    rng = random.Random(seed * 10 + quad)
    field = Image.new("RGB", (4, 4))
    field.putdata([tuple(rng.randrange(30, 235) for _ in range(3)) for _ in range(16)])
    image = field.resize((size, size), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((size, size), 48).convert("RGB")
    image = Image.blend(image, grain, 0.16)
    draw = ImageDraw.Draw(image, "RGBA")
    colour = (*(rng.randrange(256) for _ in range(3)), 150)
    cx, cy, r = size * rng.uniform(0.35, 0.65), size * rng.uniform(0.35, 0.65), size * 0.22
    shape = SHAPES[(quad - 1) % 4]
    if shape == "ellipse":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "rectangle":
        draw.rectangle((cx - r, cy - r * 0.7, cx + r, cy + r * 0.7), fill=colour)
    elif shape == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=colour)
    else:
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour)
    font = ImageFont.load_default(size=size // 6)
    draw.text((size * 0.06, size * 0.04), str(quad), font=font, fill=(255, 255, 255, 210))
    return image


def sign(secret: bytes, path: str, ex: str, is_: str) -> str:
    return hmac.new(secret, f"{path}|{ex}|{is_}".encode(), hashlib.sha256).hexdigest()


def signature_ok(secret: bytes, path: str, ex: str, is_: str, hm: str) -> bool:
    return hmac.compare_digest(sign(secret, path, ex, is_), hm)
