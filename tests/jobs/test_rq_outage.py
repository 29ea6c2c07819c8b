"""On the RQ backend, a job that failed only because the database was away runs
again once it is back (as on the database queue), up to OUTAGE_RERUNS times; a
job that fails for another reason is not run again. A real RQ worker on this run's
Redis (in-process, unforked, so the job's runs can be counted)."""

import pytest
from django.tasks import TaskResultStatus
from rq import SimpleWorker

from tasks_app import queues
from tasks_app.workers.outages import OUTAGE_RERUNS
from tasks_app.workers.rqworker import rq_worker
from tests.jobs.worker_tasks import fails_while_the_database_is_away

pytestmark = pytest.mark.django_db(transaction=True)  # the worker reconnects: no test transaction


@pytest.fixture
def rq_backend(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL (scripts/test does, in its 2nd pass)")
    import django_rq

    settings.TASKS = {
        **settings.TASKS,
        "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": list(queues.ALL)},
    }
    django_rq.get_queue(queues.DEFAULT).empty()
    return fails_while_the_database_is_away.using(backend="rq")


def _run_one(task, counter, outages: int, bug: bool = False):
    result = task.enqueue(str(counter), outages, bug)
    worker = rq_worker([queues.DEFAULT], worker_class=SimpleWorker)  # what `manage.py worker` runs
    worker.work(burst=True)
    return task.get_result(result.id)


def test_a_job_that_met_an_outage_runs_again_once_the_database_answers(rq_backend, tmp_path):
    counter = tmp_path / "runs"

    result = _run_one(rq_backend, counter, outages=2)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 3 and counter.read_text() == "3"


def test_an_outage_that_outlasts_the_reruns_fails_the_job_after_them(rq_backend, tmp_path):
    counter = tmp_path / "runs"

    result = _run_one(rq_backend, counter, outages=OUTAGE_RERUNS + 1)

    assert result.status == TaskResultStatus.FAILED
    assert counter.read_text() == str(OUTAGE_RERUNS + 1)


def test_a_job_that_fails_for_another_reason_runs_once(rq_backend, tmp_path):
    counter = tmp_path / "runs"

    result = _run_one(rq_backend, counter, outages=1, bug=True)

    assert result.status == TaskResultStatus.FAILED
    assert counter.read_text() == "1"
