"""A job that failed only because the database was away runs again once it is
back, up to OUTAGE_RERUNS times, on both queues; a job that fails for another
reason is not run again. The workers `manage.py worker` runs, in this process
(unforked, so the job's runs can be counted): the database queue's, and RQ's
on this run's Redis."""

import pytest
from django.db import OperationalError, connection
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rq import SimpleWorker

from tasks_app import queues
from tasks_app.workers.dbworker import ResilientWorker
from tasks_app.workers.outages import OUTAGE_RERUNS
from tasks_app.workers.rqworker import rq_worker
from tests.jobs.worker_tasks import fails_while_the_database_is_away

pytestmark = pytest.mark.django_db(transaction=True)  # the worker reconnects: no test transaction


@pytest.fixture(params=["database", "rq"])
def backend(request, settings):
    """The job, on the queue of this backend, and how a worker runs that queue dry."""
    if request.param == "database":
        settings.TASKS = {
            **settings.TASKS,
            "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)},
        }
        worker = ResilientWorker(
            caps={},
            queue_names=[queues.DEFAULT],
            interval=0.1,
            batch=True,  # until the queue is empty
            backend_name="database",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-outages",
            excluded_queue_names=[],
        )
        return fails_while_the_database_is_away.using(backend="database"), worker.run
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (scripts/test does, in its 2nd pass)")
    import django_rq

    settings.TASKS = {
        **settings.TASKS,
        "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": list(queues.ALL)},
    }
    django_rq.get_queue(queues.DEFAULT).empty()
    worker = rq_worker([queues.DEFAULT], worker_class=SimpleWorker)  # what `manage.py worker` runs
    return fails_while_the_database_is_away.using(backend="rq"), lambda: worker.work(burst=True)


def _run_one(backend, counter, outages: int, bug: bool = False):
    task, run_worker = backend
    result = task.enqueue(str(counter), outages, bug)
    run_worker()
    return task.get_result(result.id)


def test_a_job_that_met_an_outage_runs_again_once_the_database_answers(backend, tmp_path):
    counter = tmp_path / "runs"

    result = _run_one(backend, counter, outages=2)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 3 and counter.read_text() == "3"


def test_an_outage_that_outlasts_the_reruns_fails_the_job_after_them(backend, tmp_path):
    counter = tmp_path / "runs"

    result = _run_one(backend, counter, outages=OUTAGE_RERUNS + 1)

    assert result.status == TaskResultStatus.FAILED
    assert counter.read_text() == str(OUTAGE_RERUNS + 1)


def test_a_job_that_fails_for_another_reason_runs_once(backend, tmp_path):
    counter = tmp_path / "runs"

    result = _run_one(backend, counter, outages=1, bug=True)

    assert result.status == TaskResultStatus.FAILED
    assert counter.read_text() == "1"


def test_a_claim_whose_commit_the_outage_cut_off_is_run_once_the_database_answers(settings, tmp_path):
    """The database took the worker's claim of a job, then went away before the
    worker heard so: the job reads "running" under a live worker that runs nothing."""
    settings.TASKS = {
        **settings.TASKS,
        "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)},
    }
    counter = tmp_path / "runs"
    result = fails_while_the_database_is_away.using(backend="database").enqueue(str(counter), 0)
    worker = ResilientWorker(
        caps={},
        queue_names=[queues.DEFAULT],
        interval=0.1,
        batch=True,
        backend_name="database",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-cut-claim",
        excluded_queue_names=[],
    )
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=[worker.worker_id]
    )
    outage = {"left": 1}

    def the_next_poll_meets_the_outage(execute, sql, params, many, context):
        if outage["left"] and DBTaskResult._meta.db_table in sql:
            outage["left"] -= 1
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(the_next_poll_meets_the_outage):
        worker.run()

    assert outage["left"] == 0
    assert fails_while_the_database_is_away.using(backend="database").get_result(result.id).status == (
        TaskResultStatus.SUCCESSFUL
    )
    assert counter.read_text() == "1"
