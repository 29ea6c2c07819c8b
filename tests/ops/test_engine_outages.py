"""PostgreSQL killed for 5 s, then Redis killed for 5 s, while pages are read, buttons
pressed and the workers of `make prod` (scripts/prod: gunicorn and `manage.py workers`)
run, in the production profile. Afterwards every worker is alive, every press has
settled, every finished task's images are archived, and no request got a 500.

Runs in the PostgreSQL + Redis pass: scripts/with-services puts the scripts that
stop and start its services in MJDASH_SERVICES_BIN.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from django.db import connections
from django_tasks_db.models import DBTaskResult

from tasks_app.models import Press, Task, TaskImage
from tasks_app.workers import heartbeat
from tests import prodserver
from tests.jobs import test_multiprocess as mp
from tests.jobs.test_multiprocess import _buttons, _login, _server_env, _spawn, _wait_ready

# The multi-process test's fixtures: PostgreSQL and Redis or a skip, a simulator, a staff login.
services_or_skip, sim, staff = mp.services_or_skip, mp.sim, mp.staff

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True), pytest.mark.timeout(420)]
SERVICES = os.environ.get("MJDASH_SERVICES_BIN", "")
OUTAGE_SECONDS = 5.0


def _service(name: str) -> None:
    subprocess.run([os.path.join(SERVICES, name)], check=True, timeout=60)


def _wait_for(condition, seconds: float, what: str, log=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connections.close_all()  # the test's own connection may predate the restart
        if condition():
            return
        time.sleep(0.5)
    pytest.fail(f"waited {seconds:.0f} s for {what}\n{_state(log)}")


def _state(log) -> str:
    """What a failed wait leaves to read: every image row and job row, and the workers' warnings."""
    images = TaskImage.objects.order_by("task_id", "index").values_list(
        "task_id", "index", "state", "tries", "failure", "failure_detail", "claimed_until", "retry_at"
    )
    jobs = Counter(DBTaskResult.objects.values_list("task_path", "status"))
    printed = log.read_text(errors="replace").splitlines() if log else []
    warnings = [line for line in printed if "WARNING" in line or "ERROR" in line or "Traceback" in line]
    return "\n".join(
        ["images:", *map(repr, images), f"jobs: {dict(jobs)}", "log (warnings):", *warnings[-60:]]
    )


@pytest.fixture
def prod(services_or_skip, sim, staff, tmp_path):
    if not SERVICES:
        pytest.skip("needs scripts/with-services (MJDASH_SERVICES_BIN): it stops and starts the services")
    env = _server_env(sim, tmp_path)
    env.update(
        MJ_TASK_BACKEND="database",  # production's default: the queue is in PostgreSQL
        RUN_WORKERS="1",  # scripts/prod starts and supervises this host's workers
        MJ_IMAGE_WORKERS="1",
        MJ_FOLLOW_SECONDS="0.5",
        MJ_PRESS_ANSWER_SECONDS="0.5",
        MJ_CLAIM_SECONDS="3",
        MJ_IMAGE_RETRY_BACKOFF="1",
        DJANGO_LOG_LEVEL="INFO",
    )
    port = prodserver.free_port()
    server = _spawn([str(prodserver.ROOT / "scripts" / "prod")], env, port, tmp_path / "prod.log", workers=2)
    try:
        _wait_ready(port, server)
        yield f"http://127.0.0.1:{port}", tmp_path / "prod.log"
    finally:
        prodserver.stop_group(server[0])


def test_pages_presses_and_workers_survive_postgresql_and_redis_being_killed(prod, sim, staff):
    base, log = prod
    parents = [sim.add_task(prompt=f"grid {n}", queued=0.0, run=1.0, ago=600.0) for n in range(4)]
    session = _login(base)
    assert session.get(f"{base}/tasks/", params={"ids": ",".join(parents)}, timeout=30).status_code == 200
    presser = _login(base)
    token = presser.cookies.get("csrftoken")
    buttons = [(parent, custom_id) for parent in parents for custom_id in _buttons(parent, "U1", "U2", "U3")]

    statuses: Counter[int] = Counter()
    press_statuses: Counter[int] = Counter()
    errors: list[str] = []
    stop = threading.Event()

    def read_pages():
        pages = [f"/tasks/?ids={','.join(parents)}", f"/tasks/{parents[0]}/", "/", "/tasks/"]
        n = 0
        while not stop.is_set():
            try:
                statuses[session.get(base + pages[n % len(pages)], timeout=30).status_code] += 1
            except requests.RequestException as exc:
                errors.append(repr(exc))
            n += 1
            time.sleep(0.05)

    def press():
        for parent, custom_id in buttons:
            if stop.wait(1.2):
                return
            try:
                response = presser.post(
                    f"{base}/tasks/{parent}/action",
                    data={"custom_id": custom_id, "csrfmiddlewaretoken": token},
                    allow_redirects=False,
                    timeout=30,
                )
                press_statuses[response.status_code] += 1
            except requests.RequestException as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=read_pages), threading.Thread(target=press)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        _service("pg-stop")
        time.sleep(OUTAGE_SECONDS)
        _service("pg-start")
        time.sleep(4)
        _service("redis-kill")
        time.sleep(OUTAGE_SECONDS)
        _service("redis-start")
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    connections.close_all()

    pressed = Press.objects.filter(task_id__in=parents)
    _wait_for(
        lambda: not pressed.filter(state=Press.State.PENDING).exists(), 120, "every press to settle", log
    )
    expected = sum(len(Task.objects.get(pk=p).image_sources) for p in parents)
    archived = TaskImage.objects.filter(task_id__in=parents, state=TaskImage.State.OK)
    _wait_for(lambda: archived.count() == expected, 120, f"{expected} images archived", log)
    _wait_for(
        lambda: (
            {"follow,press,default", "images"}
            <= {w.queues for w in heartbeat.seen_since(timedelta(seconds=12))}
        ),
        60,
        "a live worker on every queue",
        log,
    )

    printed = log.read_text(errors="replace")
    restarts = printed.count("restarting in")
    print(
        f"\npages: {dict(statuses)}; presses: {dict(press_statuses)}; press rows: "
        f"{dict(Counter(pressed.values_list('state', flat=True)))}; images {archived.count()}/{expected}; "
        f"worker restarts {restarts}; request errors {len(errors)}"
    )
    assert 500 not in statuses and 500 not in press_statuses
    # The workers waited the outage out and went on: none had to be restarted.
    assert "worker: database back after" in printed and restarts == 0
    assert not errors, errors[:3]
    assert statuses[200] > 0 and statuses[503] > 0  # the outage page while PostgreSQL was away
    assert pressed.filter(state=Press.State.DONE).exists()
    assert Task.objects.filter(parent_id__in=parents).exists()
