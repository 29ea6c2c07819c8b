"""Row 6: the image pipeline on the simulator's 2048x2048 grid PNG.

Thumbnail bytes against the original's, build time against Pillow's plain
decode of the same PNG, peak memory of one build (in a fresh process), and
thumbnails served from the archive through gunicorn against a static file of
the same size through whitenoise (one sync worker, one kept-alive loopback
client). `manage.py bench_images` prints the same figures in more detail.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from django.conf import settings
from PIL import Image

from tasks_app.bench import Result, times
from tasks_app.images.processing import LARGE_SIDE, large_build, thumb_build
from tasks_app.simulator.images import render

TASK_ID = "1743326750223591"


def measure(*, rounds: int = 7, seconds: float = 3.0, http_too: bool = True) -> dict:
    size = settings.MJ_THUMB_SIZE
    original = render(20260401, None, "grid")
    decode = _best(rounds, lambda: Image.open(io.BytesIO(original)).load())
    build = _best(rounds, lambda: thumb_build(io.BytesIO(original), size=size))
    thumb, dims, preview = thumb_build(io.BytesIO(original), size=size)
    rss, traced = _peak_memory(original)
    large = large_build(io.BytesIO(original), size=LARGE_SIDE)
    figures = {
        "large_bytes": len(large),
        "large_build": _best(rounds, lambda: large_build(io.BytesIO(original), size=LARGE_SIDE)),
        "original_bytes": len(original),
        "thumb_bytes": len(thumb),
        "thumb_dims": dims,
        "preview_bytes": len(preview),
        "decode": decode,
        "build": build,
        "build_rss": rss,
        "build_heap": traced,
    }
    if http_too:
        figures.update(_http(thumb, seconds))
    return figures


def row_6(*, rounds: int, seconds: float) -> list[Result]:
    f = measure(rounds=rounds, seconds=seconds)
    share = f["thumb_bytes"] / f["original_bytes"]
    results = [
        Result(
            6,
            "card image bytes",
            1,
            f"thumbnail {f['thumb_bytes'] / 1024:.0f} KB",
            f"original {f['original_bytes'] / 1024:.0f} KB",
            "goal < 40 KB, <= 2%",
            f"{share * 100:.2f}% of the original",
            {"thumb_bytes": f["thumb_bytes"], "original_bytes": f["original_bytes"]},
        ),
        Result(
            6,
            "thumbnail build",
            1,
            f"{f['build'] * 1000:.0f} ms (+{f['build_rss'] / 2**20:.0f} MB RSS)",
            f"plain decode {f['decode'] * 1000:.0f} ms",
            "goal <= 1.2x decode",
            times(f["build"], f["decode"]),
        ),
    ]
    if "thumb_rate" in f:
        results.append(
            Result(
                6,
                "thumbnails served",
                1,
                f"{f['thumb_rate']:.0f} req/s",
                f"whitenoise {f['static_rate']:.0f} req/s",
                "goal >= 0.8x whitenoise",
                times(f["thumb_rate"], f["static_rate"]),
                {"thumb_status": f["thumb_status"], "static_status": f["static_status"]},
            )
        )
    return results


def _best(rounds, work) -> float:
    found = []
    for _ in range(max(1, rounds)):
        begin = time.perf_counter()
        work()
        found.append(time.perf_counter() - begin)
    return min(found)


def _manage() -> list[str]:
    return [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]


def _peak_memory(original: bytes) -> tuple[int, int]:
    """Peak RSS growth of one build in a fresh process (Pillow's buffers are not
    seen by tracemalloc), and the Python-heap peak from tracemalloc."""
    with tempfile.NamedTemporaryFile(suffix=".png") as png:
        png.write(original)
        png.flush()
        answer = subprocess.run(
            [*_manage(), "bench_images", "--memory-of", png.name], capture_output=True, text=True, check=True
        )
    rss, traced = json.loads(answer.stdout.strip().splitlines()[-1])
    return rss, traced


def rss_high_water() -> int:
    """This process's peak resident memory (VmHWM), bytes."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", text).group(1)) * 1024


def rss_now() -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) * 1024


def reset_high_water() -> None:
    with contextlib.suppress(OSError):  # the high-water mark back to the current RSS
        Path("/proc/self/clear_refs").write_text("5")


def memory_child(path: Path) -> None:
    original = path.read_bytes()
    reset_high_water()
    base = rss_high_water()
    tracemalloc.start()
    thumb_build(io.BytesIO(original), size=settings.MJ_THUMB_SIZE)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps([rss_high_water() - base, traced]))


# ---- through gunicorn ------------------------------------------------------------------


def _http(thumb: bytes, seconds: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="mjdash-bench-"))
    try:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(8).hex(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_HSTS_SECONDS": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "MJ_API_BASE": "http://127.0.0.1:9",
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "MEDIA_ROOT": str(work / "media"),
            "STATIC_ROOT": str(work / "static"),
        }
        env.pop("REDIS_URL", None)
        subprocess.run([*_manage(), "migrate", "--noinput", "-v0"], env=env, check=True)
        prepared = subprocess.run(
            [*_manage(), "bench_images", "--prepare", str(work)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        answer = json.loads(prepared.stdout.strip().splitlines()[-1])
        static = work / "static" / "bench" / "thumb.webp"
        static.parent.mkdir(parents=True, exist_ok=True)
        static.write_bytes(thumb)
        port = _free_port()
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        server = subprocess.Popen(
            [gunicorn, "mjdash.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--log-level", "warning"],
            env=env,
            cwd=settings.BASE_DIR,
        )
        try:
            _wait_for(port)
            cookie = {"Cookie": f"sessionid={answer['cookie']}"}
            thumb_status, thumb_rate = _rate(
                port, f"/tasks/{TASK_ID}/thumb.webp?v={answer['token']}", cookie, seconds
            )
            static_status, static_rate = _rate(port, "/static/bench/thumb.webp", {}, seconds)
        finally:
            server.terminate()
            server.wait(timeout=10)
        return {
            "thumb_rate": thumb_rate,
            "static_rate": static_rate,
            "thumb_status": thumb_status,
            "static_status": static_status,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _rate(port: int, path: str, headers: dict, seconds: float) -> tuple[int, float]:
    """Requests a second over one kept-alive connection; and the status answered."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    status, count = 0, 0
    end = time.perf_counter() + seconds
    begin = time.perf_counter()
    while time.perf_counter() < end:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
        count += 1
    rate = count / (time.perf_counter() - begin)
    conn.close()
    return status, rate


def prepare(work: Path) -> None:
    """In the throwaway database: a finished task with an archived image, and a login."""
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.test import Client

    from tasks_app.models import Task, TaskImage

    original = render(20260401, None, "grid")
    thumb, (tw, th), preview = thumb_build(io.BytesIO(original), size=settings.MJ_THUMB_SIZE)
    task = Task.objects.create(
        id=TASK_ID, action="IMAGINE", status="SUCCESS", image_url="http://127.0.0.1:9/x.png"
    )
    image = TaskImage.objects.create(
        task=task,
        index=0,
        source_url=task.image_url,
        state="ok",
        bytes=len(original),
        sha256=hashlib.sha256(original).hexdigest(),
        width=2048,
        height=2048,
        content_type="image/png",
        original=default_storage.save("images/bench/0.png", ContentFile(original)),
        thumb=default_storage.save("images/bench/0-thumb.webp", ContentFile(thumb)),
        thumb_width=tw,
        thumb_height=th,
        preview=preview,
    )
    user = get_user_model().objects.create_user("bench", password=os.urandom(12).hex())
    client = Client()
    client.force_login(user)
    print(json.dumps({"cookie": client.cookies[settings.SESSION_COOKIE_NAME].value, "token": image.token}))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")
