"""Benchmark: the archive page and the exports with many tasks in the database.

Prints figures; asserts nothing. Seeds N finished tasks (bulk insert, every one
with an archived image row, a third in one set) into a throw-away SQLite
database, or into DATABASE_URL when it is set (e.g. under scripts/with-services,
a throw-away PostgreSQL), then times the archive's first page, a deep page, a
search and a status filter through Django's test client (server time, SQL
queries), and measures the CSV and JSON exports' peak Python memory
(tracemalloc) while streaming every task.

    .venv/bin/python bench/archive.py --tasks 1000 --export 10000
    scripts/with-services .venv/bin/python bench/archive.py --tasks 100000 --export 10000
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--export", type=int, default=10000, help="tasks streamed by the export measurement")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL"):
        workdir = tempfile.mkdtemp(prefix="mjdash-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mjdash.settings")
    os.environ.setdefault("MJ_TASK_BACKEND", "immediate")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tasks_app.bench.seed import seed
    from tasks_app.gallery import exports
    from tasks_app.gallery import selectors as gallery
    from tasks_app.models import Task, TaskSet

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    total = args.tasks
    start = time.perf_counter()
    seed(total)
    seeded = time.perf_counter() - start
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tasks_app_task; ANALYZE tasks_app_taskimage")
    user, _created = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    ids = list(Task.objects.order_by("pk").values_list("pk", flat=True)[:500])
    TaskSet.objects.create(slug="benchset", ids=ids, ids_hash="bench", created_by=user)
    client = Client()
    client.force_login(user)

    print(f"{connection.vendor}, {Task.objects.count()} tasks in the database (seeded in {seeded:.1f} s)")
    deep = _cursor_at(gallery, Task, total // 2)
    views = [
        ("first page", {}),
        (f"page at task {total // 2} (keyset)", {"before": deep}),
        ("search 'lighthouse' (a word in 1 of 4 prompts)", {"q": "lighthouse"}),
        ("search '4242' (a word in 1 prompt)", {"q": "4242"}),
        ("status FAILURE", {"status": "FAILURE"}),
        ("set of 500", {"set": "benchset"}),
    ]
    for label, params in views:
        client.get("/tasks/", params)  # warm
        times = []
        for _ in range(5):
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                response = client.get("/tasks/", params)
                times.append(time.perf_counter() - begin)
        cards = response.content.count(b'<article class="card ')
        print(
            f"  archive {label}: {sorted(times)[2] * 1000:6.1f} ms (median of 5), "
            f"{len(queries)} SQL queries, {cards} cards, HTTP {response.status_code}"
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            sql, params = gallery.archive_tasks(filters=gallery.ArchiveFilters(q="4242"))[
                :48
            ].query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = " | ".join(row[0].strip() for row in cursor.fetchall()[:6])
            print(f"  search plan: {plan}")

    seed(args.export)
    newest = Task.objects.order_by("-first_seen", "-id")
    export_ids = list(newest.values_list("pk", flat=True)[: args.export])
    for fmt, stream in (("csv", exports.csv_stream), ("json", exports.json_stream)):
        for source_label, source in (
            ("archive queryset", lambda: exports.tasks_of_queryset(newest[: args.export])),
            ("set-style ID list", lambda: exports.tasks_of_ids(export_ids)),
        ):
            tracemalloc.start()
            begin = time.perf_counter()
            size = sum(len(piece) for piece in stream(source()))
            elapsed = time.perf_counter() - begin
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"  export {fmt} of {args.export} tasks ({source_label}): {size / 1e6:.1f} MB sent, "
                f"peak Python memory {peak / 1e6:.1f} MB, {elapsed:.1f} s"
            )


def _cursor_at(gallery, Task, position):
    task = Task.objects.order_by("-first_seen", "-id")[position]
    return gallery.encode_cursor(task)


if __name__ == "__main__":
    main()
