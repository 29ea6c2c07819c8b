"""`manage.py workers` (what `make prod` runs, and `make run` in a thread) as a real
process: every worker it starts beats into a `Worker` row, and one killed with
SIGKILL is started again, logged; the jobs it held go back to the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tasks_app import jobs, queues
from tasks_app.models import Worker
from tasks_app.workers import heartbeat
from tests.conftest import MANAGE

pytestmark = pytest.mark.timeout(240)
URGENT = ",".join(queues.URGENT)


def _wait_for(condition, seconds: float = 90.0, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"waited {seconds:.0f} s for {what}")


def _alive(queue_names: str) -> list[Worker]:
    return list(heartbeat.seen_since(timedelta(seconds=3)).filter(queues=queue_names))


def test_a_worker_killed_with_sigkill_is_started_again_by_its_supervisor(workers, tmp_path):
    env = {**os.environ, **workers._env(), "MJ_IMAGE_WORKERS": "1", "DJANGO_LOG_FORMAT": "plain"}
    log = tmp_path / "workers.log"
    with log.open("wb") as out:
        supervisor = subprocess.Popen(  # noqa: S603
            [sys.executable, str(MANAGE), "workers"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        first = _wait_for(lambda: _alive(URGENT), what="the urgent worker's heartbeat")[0]
        _wait_for(lambda: _alive(queues.IMAGES), what="the image worker's heartbeat")

        os.kill(first.pid, signal.SIGKILL)
        again = _wait_for(
            lambda: [w for w in _alive(URGENT) if w.pid != first.pid], what="a new urgent worker"
        )[0]
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=60)

    printed = log.read_text()
    assert f"worker pid {first.pid} (--queues {URGENT}) ended with status -9" in printed
    assert again.host == first.host and again.name != first.name
    # A clean stop: every worker it started says so, and none is left running.
    assert not heartbeat.seen_since().exclude(pk=first.pk).exists()
    assert Worker.objects.exclude(pk=first.pk).filter(stopped__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_job_held_by_a_worker_that_stopped_beating_goes_back_to_the_queue(settings):
    settings.MJ_TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)}}
    dead = heartbeat.Heartbeat(name="gone-1-aaaa", queues=[URGENT], counts=lambda: (0, 0))
    alive = heartbeat.Heartbeat(name="here-2-bbbb", queues=[URGENT], counts=lambda: (0, 0))
    dead.beat()
    alive.beat()
    Worker.objects.filter(pk=dead.name).update(last_seen=timezone.now() - timedelta(minutes=5))
    held = [jobs.press_reconcile.enqueue(n).id for n in (1, 2)]
    long_ago = timezone.now() - timedelta(minutes=5)
    for job_id, worker in zip(held, (dead.name, alive.name), strict=True):
        DBTaskResult.objects.filter(pk=job_id).update(
            status=TaskResultStatus.RUNNING, started_at=long_ago, worker_ids=[worker]
        )

    assert heartbeat.jobs_of_dead_workers_requeue() == 1

    states = dict(DBTaskResult.objects.filter(pk__in=held).values_list("pk", "status"))
    assert states[DBTaskResult.objects.get(pk=held[0]).pk] == TaskResultStatus.READY  # its worker died
    assert states[DBTaskResult.objects.get(pk=held[1]).pk] == TaskResultStatus.RUNNING  # still beating
