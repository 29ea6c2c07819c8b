"""Hostile images: what an image host may send that the archive must refuse
without harm to itself or to any other image.

A task added with `hostile=<kind>` has every one of its image links answer:

- "bomb": a decompression bomb, a PNG of 9,400 x 9,400 pixels (88 M) in about
  260 KB (decoded: 265 MB, and more in a worker's thumbnail pipeline);
- "tall": a 1 x 100,000 PNG (a grid whose quadrants are 0 px wide);
- "thin": a 2 x 40,000 PNG (quadrants past the WebP format's 16,383 px);
- "truncated": an ordinary picture cut off half way;
- "trickle": an ordinary picture sent a few KB at a time, slower than any
  deadline allows.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache
from typing import TYPE_CHECKING

from PIL import Image

from .images import render

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .core import Simulator

KINDS = ("bomb", "tall", "thin", "truncated", "trickle")
BOMB_SIDE = 9400
TRICKLE_CHUNK = 4096
TRICKLE_PAUSE = 0.25  # seconds between chunks: 16 KB/s


def reply(sim: Simulator, kind: str, seed: int) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
    headers = {"Content-Type": "image/png"}
    if kind == "trickle":
        data = sim.images.png(seed, 1, "single")
        headers["Content-Length"] = str(len(data))
        return 200, headers, _trickle(sim, data)
    if kind == "truncated":
        whole = sim.images.png(seed, 1, "single")  # rendered once, like every picture of the host
        return 200, headers, whole[: len(whole) // 2]
    return 200, headers, body(kind, seed)


def body(kind: str, seed: int = 1) -> bytes:
    if kind == "bomb":
        return bomb_png(BOMB_SIDE, BOMB_SIDE)
    if kind == "tall":
        return _plain_png(1, 100_000)
    if kind == "thin":
        return _plain_png(2, 40_000)
    if kind == "truncated":
        whole = render(seed, 1, "single")
        return whole[: len(whole) // 2]
    raise ValueError(f"unknown hostile image {kind!r}")


@cache
def bomb_png(width: int, height: int) -> bytes:
    """An RGB PNG of black pixels, never held decoded here. The rows are deflated
    in blocks of 100 after a full flush, which makes every block's deflated bytes
    the same: one block is compressed and repeated (seconds less than deflating
    265 MB), and the zlib stream's checksum is counted over the rows it stands for."""
    row = b"\0" * (1 + 3 * width)  # filter byte "none", then the row's pixels
    blocks, rest = divmod(height, 100)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: header and checksum by hand
    block = packer.compress(row * 100) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.compress(row * rest) + packer.flush()
    checksum = 1
    for _ in range(blocks):
        checksum = zlib.adler32(row * 100, checksum)
    checksum = zlib.adler32(row * rest, checksum)
    data = b"\x78\xda" + block * blocks + tail + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def _plain_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 200)).save(out, "PNG")
    return out.getvalue()


def _trickle(sim: Simulator, data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), TRICKLE_CHUNK):
        if sim._stopping.is_set():
            return
        yield data[start : start + TRICKLE_CHUNK]
        sim._pause(TRICKLE_PAUSE)
