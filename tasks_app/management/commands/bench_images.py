"""Measure the image pipeline on the simulator's 2048x2048 grid PNG and print figures.

Thumbnail bytes (target < 40 KB and <= 2% of the original), build time as a
ratio to Pillow's plain decode of the same PNG (target <= 1.5x), peak memory of
one build, and thumbnails served from the archive through gunicorn against a
static file of the same size through whitenoise (target >= half as many
requests per second). Loopback only, bounded time; it prints, never asserts.
"""

import contextlib
import hashlib
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
from django.core.management.base import BaseCommand
from PIL import Image

from tasks_app.images.processing import LARGE_SIDE, large_build, thumb_build
from tasks_app.simulator.images import render

TASK_ID = "1743326750223591"


class Command(BaseCommand):
    help = "Benchmark thumbnail size, build time, memory and serving speed (prints figures)."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=7, help="timed rounds, best kept (default 7)")
        parser.add_argument("--seconds", type=float, default=3.0, help="wrk run per URL (default 3 s)")
        parser.add_argument("--no-http", action="store_true", help="skip the gunicorn/whitenoise comparison")
        parser.add_argument("--prepare", help=argparse_hidden())
        parser.add_argument("--memory-of", help=argparse_hidden())

    def handle(self, *args, rounds, seconds, no_http, prepare, memory_of, **options):
        if prepare:
            return _prepare(Path(prepare))
        if memory_of:
            return _memory_child(Path(memory_of))
        size = settings.MJ_THUMB_SIZE
        original = render(20260401, None, "grid")
        decode = _best(rounds, lambda: Image.open(io.BytesIO(original)).load())
        build = _best(rounds, lambda: thumb_build(io.BytesIO(original), size=size))
        thumb, dims, preview = thumb_build(io.BytesIO(original), size=size)
        rss, traced = _peak_memory(original, size)
        out = self.stdout.write
        out(f"original PNG           {len(original):>10,} bytes  2048x2048")
        out(
            f"thumbnail WebP         {len(thumb):>10,} bytes  {dims[0]}x{dims[1]}  "
            f"({100 * len(thumb) / len(original):.2f}% of the original; targets < 40 KB, <= 2%)"
        )
        out(f"placeholder data URI   {len(preview):>10,} bytes")
        out(f"plain decode           {decode * 1000:>10.1f} ms (best of {rounds})")
        ratio = build / decode
        out(f"thumbnail build        {build * 1000:>10.1f} ms  = {ratio:.2f}x decode (target <= 1.5x)")
        large = large_build(io.BytesIO(original), size=LARGE_SIDE)
        large_time = _best(rounds, lambda: large_build(io.BytesIO(original), size=LARGE_SIDE))
        out(
            f"large WebP (detail)    {len(large):>10,} bytes  ({100 * len(large) / len(original):.1f}% "
            f"of the original), built in {large_time * 1000:.1f} ms by the worker"
        )
        heap = traced / 1024
        out(f"peak memory of a build {rss / 1024 / 1024:>10.1f} MB RSS growth; {heap:.0f} KB Python heap")
        if not no_http:
            _http(out, thumb, seconds)


def argparse_hidden():
    import argparse

    return argparse.SUPPRESS


def _best(rounds, work) -> float:
    times = []
    for _ in range(max(1, rounds)):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _peak_memory(original: bytes, size: int) -> tuple[int, int]:
    """Peak RSS growth of one build in a fresh process (Pillow's buffers are
    not seen by tracemalloc), and the Python-heap peak from tracemalloc."""
    with tempfile.NamedTemporaryFile(suffix=".png") as png:
        png.write(original)
        png.flush()
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        answer = subprocess.run(
            [*manage, "bench_images", "--memory-of", png.name], capture_output=True, text=True, check=True
        )
    rss, traced = json.loads(answer.stdout.strip().splitlines()[-1])
    return rss, traced


def _memory_child(path: Path):
    def hwm():
        text = Path("/proc/self/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+)", text).group(1)) * 1024

    original = path.read_bytes()
    with contextlib.suppress(OSError):  # reset the high-water mark to the current RSS
        Path("/proc/self/clear_refs").write_text("5")
    base = hwm()
    tracemalloc.start()
    thumb_build(io.BytesIO(original), size=settings.MJ_THUMB_SIZE)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps([hwm() - base, traced]))


# ---- through gunicorn ------------------------------------------------------------------


def _http(out, thumb: bytes, seconds: float):
    if not shutil.which("wrk"):
        out("wrk not found: skipping the serving comparison")
        return
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
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
        prepared = subprocess.run(
            [*manage, "bench_images", "--prepare", str(work)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        answer = json.loads(prepared.stdout.strip().splitlines()[-1])
        cookie, token = answer["cookie"], answer["token"]
        static = work / "static" / "bench" / "thumb.webp"
        static.parent.mkdir(parents=True, exist_ok=True)
        static.write_bytes(thumb)
        (work / "gunicorn.conf.py").write_text("")
        port = _free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "mjdash.wsgi",
                "-c",
                str(work / "gunicorn.conf.py"),
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=settings.BASE_DIR,
        )
        try:
            _wait_for(port)
            base = f"http://127.0.0.1:{port}"
            rates = {}
            for name, path, headers in (
                (
                    "archive thumbnail (Django view)",
                    f"/tasks/{TASK_ID}/thumb.webp?v={token}",
                    ["-H", f"Cookie: sessionid={cookie}"],
                ),
                ("static file (whitenoise)", "/static/bench/thumb.webp", []),
            ):
                check = subprocess.run(
                    [
                        "curl",
                        "-s",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code} %{size_download}",
                        *headers,
                        base + path,
                    ],
                    capture_output=True,
                    text=True,
                    timeout=10,
                )
                result = subprocess.run(
                    ["wrk", "-t1", "-c4", f"-d{max(1, int(seconds))}s", *headers, base + path],
                    capture_output=True,
                    text=True,
                    timeout=seconds + 30,
                )
                found = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
                rates[name] = float(found.group(1)) if found else 0.0
                out(f"{name:<32} {rates[name]:>9.0f} req/s  (check: HTTP {check.stdout.strip()} bytes)")
            thumb_rate, static_rate = rates.values()
            if static_rate:
                out(
                    f"archive / static               {thumb_rate / static_rate:>9.2f}x  (target >= 0.5x; "
                    f"gunicorn 1 sync worker, wrk -t1 -c4, loopback)"
                )
        finally:
            server.terminate()
            server.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _prepare(work: Path):
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


def _wait_for(port: int, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")
