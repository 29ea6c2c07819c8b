"""Row 7: peak memory of one app process.

A fresh process (`manage.py bench --memory-child`, on the same throw-away
database) measures its own resident memory from /proc/self/status while it
renders the 500-card page again and again, builds 50 thumbnails one after
another (as a worker does), and exports 10,000 tasks; then exports them the
obvious way (every row in a list, one JSON string). RSS is what the kernel
holds for the process, Pillow's and the allocator's buffers included.
"""

from __future__ import annotations

import io
import json
import os
import subprocess

from django.conf import settings

from tasks_app.bench import Result, times
from tasks_app.bench.images import _manage, reset_high_water, rss_high_water, rss_now

MB = 2**20
# RSS moves in pages and the allocator's arenas: a peak under this is noise, and a
# ratio against it would be absurd ("43913216x less" for a peak that rounds to 0).
RESOLUTION = MB


def row_7(*, slug: str, user_id: int, renders: int, thumbs: int, export: int) -> list[Result]:
    job = {"slug": slug, "user_id": user_id, "renders": renders, "thumbs": thumbs, "export": export}
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # as `make prod` runs
    answer = subprocess.run(
        [*_manage(), "bench", "--memory-child", json.dumps(job)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    f = json.loads(answer.stdout.strip().splitlines()[-1])
    warm_growth = f["render_end"] - f["render_warm"]
    return [
        Result(
            7,
            f"RSS rendering the {f['cards']}-card page x{renders}",
            f["cards"],
            f"{f['render_first'] / MB:.0f} MB after 1, {f['render_warm'] / MB:.0f} MB after "
            f"{f['warmup']}, {f['render_end'] / MB:.0f} MB after {renders} "
            f"(peak {f['render_peak'] / MB:.0f})",
            "-",
            "goal: flat after warm-up",
            f"+{warm_growth / MB:.1f} MB after warm-up",
            {"start": f["start"], "warm": f["render_warm"], "end": f["render_end"]},
        ),
        Result(
            7,
            f"RSS building {thumbs} thumbnails",
            thumbs,
            f"+{f['thumbs_peak'] / MB:.0f} MB peak",
            "-",
            "-",
            "-",
        ),
        Result(
            7,
            "RSS exporting tasks (JSON, streamed)",
            export,
            f"{_peak(f['export_peak'])}, {f['export_bytes'] / MB:.1f} MB sent",
            f"+{f['obvious_peak'] / MB:.1f} MB (all rows in a list)",
            "goal: constant memory",
            _less(f["obvious_peak"], f["export_peak"]),
            {"export_bytes": f["export_bytes"], "obvious_bytes": f["obvious_bytes"]},
        ),
    ]


def _peak(grown: int) -> str:
    if grown < RESOLUTION:
        return f"+{grown / MB:.1f} MB peak (under the {RESOLUTION / MB:.0f} MB RSS resolution)"
    return f"+{grown / MB:.1f} MB peak"


def _less(obvious: int, streamed: int) -> str:
    """How many times less the streamed export grew; a bound when its peak is within noise."""
    if streamed < RESOLUTION:
        return f"at least {times(obvious, RESOLUTION)} less"
    return f"{times(obvious, streamed)} less"


def child(job: dict) -> dict:
    """Runs in the fresh process; returns byte figures."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tasks_app.bench.seed import seed
    from tasks_app.gallery import exports
    from tasks_app.images.processing import thumb_build
    from tasks_app.models import Task
    from tasks_app.simulator.images import render

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    f = {"start": rss_now()}
    client = Client()
    client.force_login(get_user_model().objects.get(pk=job["user_id"]))
    url = f"/s/{job['slug']}/"
    warmup = min(5, job["renders"])
    reset_high_water()
    for k in range(job["renders"]):
        content = client.get(url).content
        if k == 0:
            f["render_first"] = rss_now()
            f["cards"] = content.count(b'<article class="card')
        if k == warmup - 1:
            f["render_warm"] = rss_now()
    f.update(render_end=rss_now(), render_peak=rss_high_water(), warmup=warmup)

    originals = [render(20260401 + k % 5, None, "grid") for k in range(min(5, job["thumbs"]))]
    reset_high_water()
    base = rss_now()
    for k in range(job["thumbs"]):
        thumb_build(io.BytesIO(originals[k % len(originals)]), size=settings.MJ_THUMB_SIZE)
    f["thumbs_peak"] = rss_high_water() - base
    del originals

    seed(job["export"])
    newest = Task.objects.order_by("-first_seen", "-id")[: job["export"]]
    reset_high_water()
    base = rss_now()
    f["export_bytes"] = sum(len(piece) for piece in exports.json_stream(exports.tasks_of_queryset(newest)))
    f["export_peak"] = rss_high_water() - base
    reset_high_water()
    base = rss_now()
    f["obvious_bytes"] = len("".join(exports.json_stream(list(newest))))
    f["obvious_peak"] = rss_high_water() - base
    return f


def run_child(raw: str) -> None:
    print(json.dumps(child(json.loads(raw))))
