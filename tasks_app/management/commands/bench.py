"""`manage.py bench`: every row of the benchmark table (issue 13), printed.

Starts the relay simulator on loopback with a set latency per request and
runs each row in a throw-away database: a temporary SQLite file, or, when
DATABASE_URL names a PostgreSQL, Django's test database beside it (created
and dropped here), so the user's data is never touched. It prints a table
and never fails on a time; tests/bench/test_bench.py asserts its counts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

ALL_ROWS = (1, 2, 3, 4, 5, 6, 7, 8)
# The production profile (what `make prod` runs), over plain http on loopback. Images
# on loopback are allowed: the simulator that serves them is there.
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "DJANGO_SSL_REDIRECT": "0",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_HSTS_SECONDS": "0",
    "MJ_IMAGE_ALLOW_LOOPBACK": "1",
}
FULL = {
    "lookup": [10, 100, 1000],
    "sample": 20,
    "viewers": [1, 10, 50],
    "viewer_cards": [100, 1000],
    "rounds": 3,
    "page": [10, 100, 500],
    "poll": 200,
    "image_rounds": 7,
    "serve_seconds": 3.0,
    "renders": 100,
    "thumbs": 50,
    "export": 10_000,
    "worker_tasks": 100,
    "workers": [1, 2, 4],
}
QUICK = {
    "lookup": [10, 25],
    "sample": 3,
    "viewers": [1, 3],
    "viewer_cards": [20],
    "rounds": 2,
    "page": [5, 20],
    "poll": 20,
    "image_rounds": 1,
    "serve_seconds": 0.5,
    "renders": 3,
    "thumbs": 2,
    "export": 300,
    "worker_tasks": 2,
    "workers": [1],
}


class Command(BaseCommand):
    help = "Run the benchmark table against the simulator (prints figures; never fails on a time)."

    def add_arguments(self, parser):
        parser.add_argument("--latency", type=float, default=0.150, help="seconds per relay request (0.150)")
        parser.add_argument("--quick", action="store_true", help="small N everywhere (for tests)")
        parser.add_argument("--rows", default="", help="rows to run, e.g. 1,2 (default: all)")
        parser.add_argument("--renders", type=int, help="row 7: renders of the 500-card page (100)")
        parser.add_argument("--worker-tasks", type=int, help="row 8: tasks that finish at once (100)")
        parser.add_argument("--json", action="store_true", help="also print every result as one JSON line")
        parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
        parser.add_argument("--memory-child", help=argparse.SUPPRESS)
        parser.add_argument("--workers-child", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["memory_child"]:
            from tasks_app.bench import memory

            return memory.run_child(options["memory_child"])
        if options["workers_child"]:
            from tasks_app.bench import workers

            return workers.run_child(options["workers_child"])
        rows = _rows(options["rows"])
        if options["child"]:
            return self._run(rows, options)
        return self._spawn(options)

    # ---- the parent: a throw-away database, then the child that measures --------------

    def _spawn(self, options) -> None:
        work = Path(tempfile.mkdtemp(prefix="mjdash-bench-"))
        env = {
            **os.environ,
            **PRODUCTION,
            "DJANGO_SECRET_KEY": "bench-only-" + os.urandom(16).hex(),
            # Production needs one; the child points it at the simulator.
            "MJ_API_BASE": os.environ.get("MJ_API_BASE") or "http://127.0.0.1:9",
            "MEDIA_ROOT": str(work / "media"),
            "STATIC_ROOT": str(work / "static"),
            "MJ_TASK_BACKEND": "database",  # jobs are queued as in production; row 8 runs workers
            "MJ_FRESHNESS_SECONDS": os.environ.get("MJ_FRESHNESS_SECONDS", "1"),
            "DJANGO_LOG_LEVEL": "ERROR",
        }
        env.pop("REDIS_URL", None)  # the local-memory cache: nothing shared is touched
        postgres = connection.vendor == "postgresql"
        configured = connection.settings_dict["NAME"]
        try:
            if postgres:
                # A database of its own beside the configured one (never a test run's test_<name>).
                connection.settings_dict.setdefault("TEST", {})["NAME"] = f"mjdash_bench_{os.getpid()}"
                connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
                env["DATABASE_URL"] = _postgres_url(connection.settings_dict)
            else:
                env["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
            manage = str(Path(settings.BASE_DIR) / "manage.py")
            # The production profile renders templates with the hashed static names.
            subprocess.run([sys.executable, manage, "collectstatic", "--noinput", "-v0"], env=env, check=True)
            command = [sys.executable, manage, "bench", "--child", *_child_args(options)]
            done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
            self.stdout.write(done.stdout.rstrip("\n"))
            if done.returncode:
                raise CommandError(f"the benchmark stopped (exit {done.returncode})")
        finally:
            if postgres:
                connection.creation.destroy_test_db(configured, verbosity=0)
            shutil.rmtree(work, ignore_errors=True)

    # ---- the child ------------------------------------------------------------------------

    def _run(self, rows: list[int], options) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        from tasks_app import services
        from tasks_app.bench import images, lookup, memory, pages, table, workers
        from tasks_app.bench.lookup import new_tasks
        from tasks_app.bench.seed import archive_instantly
        from tasks_app.sets import services as set_services
        from tasks_app.simulator import Simulator

        plan = dict(QUICK if options["quick"] else FULL)
        if options["renders"]:
            plan["renders"] = options["renders"]
        if options["worker_tasks"]:
            plan["worker_tasks"] = options["worker_tasks"]
        latency = options["latency"]
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        call_command("migrate", verbosity=0)
        out = self.stdout.write
        out(_header(latency))
        sim = Simulator(api_key="bench", frozen_clock=True).start()
        settings.MJ_API_BASE, settings.MJ_API_KEY = sim.base_url, "bench"
        sim.latency = latency
        user = get_user_model().objects.create_user("bench", is_staff=True)
        client = Client()
        client.force_login(user)
        results = []
        try:
            if 1 in rows or 2 in rows:
                found = lookup.rows_1_2(sim, plan["lookup"], latency, sample=plan["sample"])
                results += [r for r in found if r.row in rows]
            if 3 in rows:
                results += lookup.row_3(sim, plan["viewer_cards"], plan["viewers"], rounds=plan["rounds"])
            if 4 in rows:
                results += pages.row_4(sim, client, user, plan["page"])
            if 5 in rows:
                results += pages.row_5(sim, client, user, n=plan["poll"])
            if 6 in rows:
                results += images.row_6(rounds=plan["image_rounds"], seconds=plan["serve_seconds"])
            if 7 in rows:
                ids = new_tasks(sim, plan["page"][-1])
                services.task_lookup(ids=ids)
                archive_instantly(ids)
                slug = set_services.set_save(user=user, ids=ids).slug
                results += memory.row_7(
                    slug=slug,
                    user_id=user.pk,
                    renders=plan["renders"],
                    thumbs=plan["thumbs"],
                    export=plan["export"],
                )
        finally:
            sim.stop()
        if 8 in rows:
            results += workers.row_8(tasks=plan["worker_tasks"], workers=plan["workers"], latency=latency)
        out("")
        out(table(results))
        if options["json"]:
            out(json.dumps([r.__dict__ for r in results]))


def _child_args(options) -> list[str]:
    args = ["--latency", str(options["latency"]), "--rows", options["rows"] or ""]
    args += ["--quick"] if options["quick"] else []
    args += ["--json"] if options["json"] else []
    for name in ("renders", "worker_tasks"):
        if options[name]:
            args += ["--" + name.replace("_", "-"), str(options[name])]
    return args


def _rows(text: str) -> list[int]:
    if not text.strip():
        return list(ALL_ROWS)
    try:
        rows = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise CommandError(f"--rows takes row numbers such as 1,2 (got {text!r})") from None
    unknown = [row for row in rows if row not in ALL_ROWS]
    if unknown:
        raise CommandError(f"no such row: {unknown} (rows are 1-8)")
    return rows


def _postgres_url(db: dict) -> str:
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    login = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{login}{host}{port}/{quote(db['NAME'], safe='')}"


def _header(latency: float) -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"mjdash bench: {connection.vendor}, DEBUG {'on' if settings.DEBUG else 'off'}, "
        f"relay latency {latency * 1000:.0f} ms a request, "
        f"batch {settings.MJ_BATCH_SIZE}, {settings.MJ_CONCURRENCY} in flight, "
        f"freshness window {settings.MJ_FRESHNESS_SECONDS:g} s\n"
        f"machine: {os.cpu_count()} CPUs, {cpu}; load average {load}"
    )
