"""Row 8: N tasks finish at once with no page open; how long until every card's
thumbnail is served and every image archived, with 1, 2 and 4 background workers.

Real parts only: a fresh throw-away SQLite database per run, the relay
simulator on loopback (grid tasks: five images each, as relays send them),
`manage.py worker` processes. The simulator's images are rendered before
timing (its image host draws each picture once, one at a time), so the figure
is the dashboard's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time

from tasks_app.bench import Result, times
from tasks_app.bench.images import _manage

IMAGES_PER_TASK = 5


def row_8(*, tasks: int, workers: list[int], latency: float) -> list[Result]:
    results, first = [], None
    for count in workers:
        f = run(tasks=tasks, workers=count, latency=latency)
        first = first or f
        results.append(
            Result(
                8,
                f"{count} worker{'s' if count > 1 else ''}: thumbnails / all images",
                tasks,
                f"{f['thumbs_seconds']:.1f} s / {f['all_seconds']:.1f} s ({f['images_ok']} images)",
                "-",
                "goal: scales with workers",
                f"{times(first['all_seconds'], f['all_seconds'])} of 1 worker's speed",
                {k: f[k] for k in ("served", "images_ok", "image_calls", "list_calls")},
            )
        )
    return results


def run(*, tasks: int, workers: int, latency: float) -> dict:
    workdir = tempfile.mkdtemp(prefix="mjdash-bench-workers-")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
        "MEDIA_ROOT": f"{workdir}/media",
        "MJ_TASK_BACKEND": "database",
        "MJ_FOLLOW_SECONDS": "0.5",
        "MJ_FRESHNESS_SECONDS": "0",
        "MJ_IMAGE_ALLOW_LOOPBACK": "1",
        "DJANGO_LOG_LEVEL": "CRITICAL",  # a thumbnail not archived yet is a 503, logged as an error
    }
    env.pop("REDIS_URL", None)
    job = json.dumps({"tasks": tasks, "workers": workers, "latency": latency})
    subprocess.run([*_manage(), "migrate", "--noinput", "-v0"], env=env, check=True)
    answer = subprocess.run(
        [*_manage(), "bench", "--workers-child", job], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def child(job: dict) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tasks_app import services
    from tasks_app.models import TaskImage
    from tasks_app.simulator import Simulator

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    n = job["tasks"]
    sim = Simulator(api_key="bench", frozen_clock=True).start()
    settings.MJ_API_BASE, settings.MJ_API_KEY = sim.base_url, "bench"
    ids = [sim.add_task(prompt=f"fox {k}", queued=0.0, run=10.0) for k in range(n)]
    sim.clock.advance(2)
    services.task_lookup(ids=ids)  # pasted while running; then every tab is closed
    sim.images._max = 10 * n  # render the host's pictures before timing
    for task_id in ids:
        seed, _quad = sim.task(task_id).look
        sim.images.png(seed, None, "grid")
        for k in range(1, 5):
            sim.images.png(seed, k, "single")
    sim.latency = job["latency"]
    env = {**os.environ, "MJ_API_BASE": sim.base_url, "MJ_API_KEY": "bench"}
    command = [*_manage(), "worker", "--interval", "0.1"]  # every queue
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen(command, env=env, **quiet) for _ in range(job["workers"])]
    try:
        time.sleep(3)  # workers up
        client = Client()
        client.force_login(get_user_model().objects.create_user("bench"))
        sim.reset_counters()
        sim.clock.advance(60)  # all finish at the relay now
        finished = time.monotonic()
        main_images = TaskImage.objects.filter(task_id__in=ids, index=0, state="ok")
        while main_images.count() < n and time.monotonic() - finished < 900:
            time.sleep(0.1)
        served = sum(client.get(f"/tasks/{i}/thumb.webp").status_code == 200 for i in ids)
        thumbs = time.monotonic() - finished
        everything = TaskImage.objects.filter(state="ok")
        while everything.count() < IMAGES_PER_TASK * n and time.monotonic() - finished < 900:
            time.sleep(0.1)
        total = time.monotonic() - finished
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        sim.stop()
    return {
        "thumbs_seconds": thumbs,
        "all_seconds": total,
        "served": served,
        "images_ok": everything.count(),
        "image_calls": sim.calls["image"],
        "list_calls": sim.calls["list"],
    }


def run_child(raw: str) -> None:
    print(json.dumps(child(json.loads(raw))))
