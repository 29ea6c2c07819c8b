"""Benchmark: 100 tasks finish at once with no page open; how long until every
card's thumbnail is served, with 1, 2 and 4 background workers.

Real parts only: a throw-away SQLite database, the relay simulator on loopback
(grid tasks: five images each, as relays send them), `manage.py db_worker`
processes. Prints figures; asserts nothing.

    .venv/bin/python bench/workers.py [--tasks 100] [--workers 1 2 4]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--warm", action="store_true", help="render the simulator's images first: time the dashboard alone"
    )
    args = parser.parse_args()
    for count in args.workers:
        run(args.tasks, count, args.warm)


def run(n_tasks: int, n_workers: int, warm: bool) -> None:
    workdir = tempfile.mkdtemp(prefix="mjdash-bench-")
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
    code = f"""
import os, sys, time
sys.path.insert(0, {str(ROOT)!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mjdash.settings")
import django; django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.contrib.auth import get_user_model
from tasks_app import services
from tasks_app.models import TaskImage
from tasks_app.simulator import Simulator
import subprocess
call_command("migrate", verbosity=0)
sim = Simulator(api_key="bench", frozen_clock=True).start()
settings.MJ_API_BASE, settings.MJ_API_KEY = sim.base_url, "bench"
ids = [sim.add_task(prompt=f"fox {{i}}", queued=0.0, run=10.0) for i in range({n_tasks})]
sim.clock.advance(2)
services.task_lookup(ids=ids)  # pasted while running; then every tab is closed
if {warm!r}:  # the image host renders each picture once, one at a time: do it before timing
    sim.images._max = 10 * len(ids)
    for task_id in ids:
        seed, _quad = sim.task(task_id).look
        sim.images.png(seed, None, "grid")
        for n in range(1, 5):
            sim.images.png(seed, n, "single")
env = {{**os.environ, "MJ_API_BASE": sim.base_url, "MJ_API_KEY": "bench"}}
command = [sys.executable, {str(ROOT / "manage.py")!r}, "db_worker", "--interval", "0.1",
           "--no-startup-delay", "--no-reload"]
quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
workers = [subprocess.Popen(command, env=env, **quiet) for _ in range({n_workers})]
time.sleep(3)  # workers up
client = Client(SERVER_NAME="localhost"); client.force_login(get_user_model().objects.create_user("bench"))
sim.reset_counters()
sim.clock.advance(60)  # all {n_tasks} finish at the relay now
finished = time.monotonic()
main_images = TaskImage.objects.filter(task_id__in=ids, index=0, state="ok")
while main_images.count() < len(ids) and time.monotonic() - finished < 900:
    time.sleep(0.1)
served = {{i for i in ids if client.get(f"/tasks/{{i}}/thumb.webp").status_code == 200}}
thumbs = time.monotonic() - finished
while TaskImage.objects.filter(state="ok").count() < 5 * len(ids) and time.monotonic() - finished < 600:
    time.sleep(0.1)
everything = time.monotonic() - finished
for w in workers: w.terminate()
label = "workers={n_workers}" + (" (host warm)" if {warm!r} else "")
print(f"{{label}}: all {{len(served)}} thumbnails served {{thumbs:.1f}} s after they finished; "
      f"all {{TaskImage.objects.filter(state='ok').count()}} images archived after {{everything:.1f}} s; "
      f"image downloads {{sim.calls['image']}}, relay list calls {{sim.calls['list']}}")
sim.stop()
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=900)


if __name__ == "__main__":
    main()
