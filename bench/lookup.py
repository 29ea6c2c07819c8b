"""Benchmark: looking up many IDs, cold (asked upstream) and warm (from the cache).

Prints figures; asserts nothing. Uses a throw-away SQLite database and the
simulator with a per-request latency, so batching and concurrency show.

    .venv/bin/python bench/lookup.py [--ids 500] [--latency 0.2]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ids", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="mjdash-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mjdash.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tasks_app import services
    from tasks_app.simulator import Simulator

    call_command("migrate", verbosity=0)
    sim = Simulator(api_key="bench", frozen_clock=True).start()
    settings.MJ_API_BASE, settings.MJ_API_KEY = sim.base_url, "bench"
    ids = [sim.add_task(prompt=f"bench {i}", run=1.0) for i in range(args.ids)]
    sim.clock.advance(120)
    sim.latency = args.latency
    sim.reset_counters()

    print(
        f"{args.ids} IDs, batch {settings.MJ_BATCH_SIZE}, pool {settings.MJ_CONCURRENCY}, "
        f"upstream latency {args.latency * 1000:.0f} ms"
    )
    for label in ("cold", "warm"):
        before = sim.calls["list"]
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            lookup = services.task_lookup(ids=ids)
            elapsed = time.perf_counter() - start
        print(
            f"  {label}: {elapsed * 1000:7.1f} ms, {sim.calls['list'] - before} upstream calls, "
            f"{len(queries)} SQL queries, {len(lookup.tasks)} tasks"
        )
    sim.stop()


if __name__ == "__main__":
    main()
