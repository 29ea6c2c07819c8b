"""The gaps the benchmark table showed (issue 13), each held by a count:
the simulator's answers, the writes of a lookup, SQLite's connection, the
session, and the production server's memory bounds."""

import http.client
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks_app import queues, services
from tasks_app.models import Task
from tasks_app.simulator import server
from tests import prodserver
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[2]


def test_the_simulator_answers_in_one_send_with_nagle_off(simulator):
    """Headers and body sent apart, with Nagle on, cost a kept-alive request ~40 ms
    (the client's delayed ACK): every latency the tests and benchmarks saw."""
    task_id = simulator.add_task(run=1.0)
    writes, nodelay = [], []

    class Counting(server.Handler):
        sim = simulator

        def setup(self):
            super().setup()
            nodelay.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            write = self.wfile.write
            self.wfile.write = lambda data: (writes.append(len(data)), write(data))[1]

    httpd = server.QuietServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        conn = http.client.HTTPConnection(*httpd.server_address, timeout=10)
        for _ in range(3):  # one kept-alive connection
            body = json.dumps({"ids": [task_id]})
            conn.request("POST", "/mj/task/list-by-condition", body, {"Authorization": f"Bearer {API_KEY}"})
            assert conn.getresponse().read().startswith(b"[")
        conn.close()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert nodelay == [1]
    assert len(writes) == 3  # one send an answer, headers and body together


@pytest.fixture
def database_queue(settings):
    """Jobs are queued in the database, as in production (nobody runs them here)."""
    settings.MJ_TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)}}


@pytest.mark.django_db
def test_a_cold_lookup_costs_the_same_few_queries_for_10_or_100_new_ids(simulator, database_queue):
    """Was 113 queries for 100 IDs (a job row per two images, all rows read back)."""
    warm_up = [simulator.add_task(run=1.0)]
    small = [simulator.add_task(run=1.0) for _ in range(10)]
    large = [simulator.add_task(run=1.0) for _ in range(100)]
    simulator.clock.advance(120)
    services.task_lookup(ids=warm_up)  # starts the follow chain once (a lease)
    counts = []
    for ids in (small, large):
        with CaptureQueriesContext(connection) as queries:
            lookup = services.task_lookup(ids=ids)
        assert [task.id for task in lookup.tasks] == ids
        assert all(task.status == "SUCCESS" and task.first_seen for task in lookup.tasks)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 12
    from django_tasks_db.models import DBTaskResult

    from tasks_app.models import TaskImage

    # The lookup writes no image row and one job a stored batch (was a claim row an
    # image and a job every two: 5,000 and 2,500 for 1,000 grids); a worker claims.
    assert TaskImage.objects.count() == 0
    scheduled = DBTaskResult.objects.filter(task_path__endswith="images_schedule")
    assert scheduled.count() == 3
    assert sorted(i for row in scheduled for i in row.args_kwargs["args"][0]) == sorted(
        warm_up + small + large
    )
    assert DBTaskResult.objects.count() == 3 + 1  # and the follow chain's one tick


def _task_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if 'INTO "tasks_app_task"' in q["sql"] or 'UPDATE "tasks_app_task"' in q["sql"]
    ]


@pytest.mark.django_db
def test_a_due_poll_of_tasks_that_did_not_move_writes_only_their_fetch_time(simulator, settings):
    settings.MJ_FRESHNESS_SECONDS = 0  # every look is due
    ids = [simulator.add_task(run=10_000.0, queued=0.0) for _ in range(5)]
    simulator.clock.advance(30)
    services.task_lookup(ids=ids)

    with CaptureQueriesContext(connection) as queries:
        services.task_lookup(ids=ids)  # the frozen clock: nothing moved at the relay

    writes = _task_writes(queries)
    assert len(writes) == 1
    assert writes[0].startswith('UPDATE "tasks_app_task" SET "last_fetched"')
    assert '"payload"' not in writes[0]


@pytest.mark.django_db
def test_a_task_that_moved_is_written_in_one_upsert_of_the_fields_that_moved(
    simulator, settings, database_queue
):
    # Jobs queued, as in production: the progress previews' jobs (which write a
    # task's preview) run in a worker, not inside this lookup.
    settings.MJ_FRESHNESS_SECONDS = 0
    ids = [simulator.add_task(run=10_000.0, queued=0.0, prompt="a quiet pier") for _ in range(5)]
    simulator.clock.advance(30)
    first = {t.pk: t for t in services.task_lookup(ids=ids).tasks}
    simulator.clock.advance(2000)  # progress moves

    with CaptureQueriesContext(connection) as queries:
        second = services.task_lookup(ids=ids).tasks

    writes = _task_writes(queries)
    assert len(writes) == 1 and "ON CONFLICT" in writes[0]
    assert 'EXCLUDED."progress"' in writes[0]
    assert 'EXCLUDED."prompt"' not in writes[0] and 'EXCLUDED."first_seen"' not in writes[0]
    for task in second:
        assert task.progress > first[task.pk].progress
        assert task.prompt == "a quiet pier" and task.first_seen == first[task.pk].first_seen
    stored = Task.objects.in_bulk(ids)
    assert all(stored[t.pk].progress == t.progress for t in second)


def test_sqlite_keeps_its_connection_between_requests(tmp_path):
    """The PRAGMAs run once a connection: with CONN_MAX_AGE 0 they ran every request."""
    code = """
from django.core.signals import request_finished, request_started
from django.db import connection
connection.ensure_connection()
first = connection.connection
for _ in range(3):
    request_started.send(sender=None)
    connection.cursor().execute("SELECT 1")
    request_finished.send(sender=None)
print(connection.connection is first)
"""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DJANGO_SETTINGS_MODULE="mjdash.settings")
    setup = "import django; django.setup()\n"
    answer = subprocess.run(
        [sys.executable, "-c", setup + code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert answer.stdout.strip() == "True", answer.stderr[-2000:]


@pytest.mark.django_db
def test_seeing_a_results_page_again_does_not_write_the_session(simulator, logged_in):
    ids = [simulator.add_task(run=1.0) for _ in range(3)]
    simulator.clock.advance(60)
    url = "/tasks/?ids=" + ",".join(ids)
    assert logged_in.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert logged_in.get(url).status_code == 200
    writes = [q["sql"] for q in queries if not q["sql"].startswith("SELECT")]
    assert not [sql for sql in writes if "django_session" in sql]
    assert writes == []  # nothing at all: the set is already saved, the tasks final


@pytest.mark.timeout(240)  # up to 90 s to start, 30 s to stop, on a loaded machine
def test_make_prod_bounds_malloc_arenas_and_worker_lifetime(tmp_path):
    port = prodserver.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MJ_", "MALLOC_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SECRET_KEY="prod-test-" + "k3y-" * 12,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SSL_REDIRECT="0",
        MJ_API_BASE="https://relay.example.com",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
    )
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "prod")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        assert proc.poll() is None, "make prod did not start"
        # scripts/prod runs gunicorn's master beside the workers' supervisor.
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        master = next(c for c in children if b"gunicorn" in Path(f"/proc/{c}/cmdline").read_bytes())
        environ = Path(f"/proc/{master}/environ").read_bytes().split(b"\0")
        argv = Path(f"/proc/{master}/cmdline").read_bytes().split(b"\0")
    finally:
        prodserver.stop_group(proc)
    assert b"MALLOC_ARENA_MAX=2" in environ
    assert argv[argv.index(b"--max-requests") + 1] == b"1000"
    assert argv[argv.index(b"--max-requests-jitter") + 1] == b"100"


def test_pages_loading_together_do_not_split_one_batch_between_them(transactional_db, simulator, settings):
    """Each ID is claimed by one caller; the batch as a whole, so 8 viewers make
    the calls one viewer would (claimed one task at a time, they took parts each)."""
    settings.MJ_FRESHNESS_SECONDS = 30
    ids = [simulator.add_task(run=10_000.0, queued=0.0) for _ in range(300)]
    simulator.clock.advance(30)
    services.task_lookup(ids=ids)
    Task.objects.update(last_fetched=timezone.now() - timedelta(minutes=5))  # all due
    simulator.reset_counters()
    simulator.latency = 0.2
    barrier = threading.Barrier(8)
    errors = []

    def viewer():
        try:
            barrier.wait(timeout=30)
            services.task_lookup(ids=ids)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert simulator.calls["list"] == math.ceil(300 / settings.MJ_BATCH_SIZE)
    assert sorted(i for batch in simulator.list_batches for i in batch) == sorted(ids)


@pytest.mark.django_db
def test_each_batch_is_stored_in_one_insert_as_it_arrives(simulator, settings, database_queue):
    settings.MJ_BATCH_SIZE = 10
    ids = [simulator.add_task(run=1.0) for _ in range(25)]
    simulator.clock.advance(60)
    with CaptureQueriesContext(connection) as queries:
        lookup = services.task_lookup(ids=ids)
    assert [task.id for task in lookup.tasks] == ids
    assert simulator.calls["list"] == 3
    inserts = [
        q["sql"] for q in queries if q["sql"].startswith("INSERT") and 'INTO "tasks_app_task"' in q["sql"]
    ]
    assert len(inserts) == 3  # one a batch, not one a task, nor one at the end
