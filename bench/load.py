"""Load run: locust users against the production profile with the relay simulator behind it.

Starts the simulator (real clock: live tasks progress), seeds finished and live
tasks, prepares a production deploy (migrate, collectstatic, a user) and
serves it with gunicorn as scripts/prod does (2 workers x 4 threads), pastes
every task once (as a person would), then runs locust headless
(bench/locustfile.py: paging the archive, polling, opening details). Prints
the figures; `run()` returns them for tests/ops/test_load.py.

SQLite and a per-process cache by default; under scripts/with-services the
server uses that PostgreSQL and Redis (DATABASE_URL, REDIS_URL), as `make prod`.

    .venv/bin/python bench/load.py --users 50 --seconds 60
    scripts/with-services .venv/bin/python bench/load.py --users 50 --seconds 60

The relay bound: a live task is asked at most once per freshness window by
each process that keeps its own cache (all of them share one window with
Redis), so per task: processes x (seconds / window + 1) list calls at most.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tasks_app.simulator import Simulator  # noqa: E402
from tests import prodserver  # noqa: E402

KEY = "sk-load-test-7d1e5a"
WORKERS, THREADS = 2, 4  # scripts/prod's defaults


def run(*, users: int, seconds: int, finished: int = 60, live: int = 20, window: float = 2.0) -> dict:
    sim = Simulator(api_key=KEY).start()
    try:
        return _run(sim, users=users, seconds=seconds, finished=finished, live=live, window=window)
    finally:
        sim.stop()


def _run(sim, *, users, seconds, finished, live, window) -> dict:
    done_ids = [sim.add_task(prompt=f"a finished fox {n}", run=1.0, ago=600.0) for n in range(finished)]
    live_ids = [sim.add_task(prompt=f"a running owl {n}", run=3600.0) for n in range(live)]
    with tempfile.TemporaryDirectory(prefix="mjdash-load-") as tmp:
        services = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL") if os.environ.get(k)}
        env = prodserver.production_env(
            Path(tmp),
            MJ_API_BASE=sim.base_url,
            MJ_API_KEY=KEY,
            MJ_FRESHNESS_SECONDS=str(window),
            MJ_IMAGE_ALLOW_LOOPBACK="1",
            MJ_TASK_BACKEND="database",  # as production: jobs (images, follow ticks) in a worker
            MJ_FOLLOW_SECONDS=str(window),
            **services,
        )
        prodserver.prepare(env)
        worker = subprocess.Popen(  # noqa: S603 - as production runs one beside the server
            [sys.executable, str(ROOT / "manage.py"), "worker", "--interval", "0.5"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            stats = _serve(sim, env, Path(tmp), users, seconds, done_ids, live_ids)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        batches, calls = stats.pop("batches"), stats.pop("calls")
        asks = Counter(task_id for batch in batches for task_id in batch)
        # Each process that keeps its own cache keeps its own window: the web
        # workers and the job worker, unless they share Redis.
        processes = 1 if "REDIS_URL" in services else WORKERS + 1
        return {
            **stats,
            "relay_list_calls": calls.get("list", 0),
            "relay_submits": sum(calls.get(route, 0) for route in ("action", "modal", "imagine")),
            "max_asks_per_task": max(asks.values(), default=0),
            "ask_bound_per_task": processes * (math.ceil(stats["elapsed_s"] / window) + 1),
            "asked_finished": sum(asks[i] for i in done_ids),
            "database": "PostgreSQL" if "DATABASE_URL" in services else "SQLite",
            "cache": "Redis" if "REDIS_URL" in services else "per process",
        }


def _serve(sim, env, tmp: Path, users, seconds, done_ids, live_ids) -> dict:
    with prodserver.gunicorn(env, workers=WORKERS, threads=THREADS) as base:
        session = prodserver.login(base)
        paste(session, base, done_ids + live_ids)
        sim.reset_counters()
        started = time.monotonic()
        stats = locust(
            base, session, tmp, users=users, seconds=seconds, live=live_ids, ids=done_ids + live_ids
        )
        # What the relay saw while the users ran (the worker asks on after they stop).
        with sim.lock:
            stats["batches"], stats["calls"] = list(sim.list_batches), dict(sim.calls)
        stats["elapsed_s"] = round(time.monotonic() - started, 1)
        return stats


def paste(session, base: str, ids: list[str]) -> None:
    token = session.cookies["csrftoken"]
    answer = session.post(
        f"{base}/tasks/", data={"ids": "\n".join(ids), "csrfmiddlewaretoken": token}, timeout=120
    )
    answer.raise_for_status()


def locust(base, session, tmp: Path, *, users, seconds, live, ids) -> dict:
    prefix = tmp / "locust"
    env = {
        **os.environ,
        "MJDASH_SESSION": session.cookies["sessionid"],
        "MJDASH_CSRF": session.cookies["csrftoken"],
        "MJDASH_LIVE": ",".join(live),
        "MJDASH_IDS": ",".join(ids),
    }
    command = [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "bench/locustfile.py"), "--headless"]
    command += ["-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{seconds}s", "--host", base]
    command += ["--exit-code-on-error", "3", "--only-summary", "--csv", str(prefix), "--stop-timeout", "10"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 120)
    with open(f"{prefix}_stats.csv") as stats_file, open(f"{prefix}_failures.csv") as failures_file:
        rows = {row["Name"]: row for row in csv.DictReader(stats_file)}
        failures = list(csv.DictReader(failures_file))
    total = rows["Aggregated"]
    return {
        "users": users,
        "seconds": seconds,
        "exit_code": result.returncode,
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "server_errors": sum(int(f["Occurrences"]) for f in failures if "HTTP 5" in f["Error"]),
        "requests_per_s": round(float(total["Requests/s"]), 1),
        "per_endpoint": {
            name: {
                "requests": int(row["Request Count"]),
                "median_ms": int(float(row["Median Response Time"])),
                "p95_ms": int(float(row["95%"])),
                "max_ms": int(float(row["Max Response Time"])),
            }
            for name, row in rows.items()
        },
        "locust_output": result.stderr[-3000:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    figures = run(users=args.users, seconds=args.seconds)
    print(json.dumps({k: v for k, v in figures.items() if k != "locust_output"}, indent=2))


if __name__ == "__main__":
    main()
