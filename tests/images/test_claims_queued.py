"""An image claimed for a job that never reached the queue is not held for
QUEUED_FOR (10 minutes): the database or Redis failing between the claim and
the job leaves the image free for the next pass, on both queues."""

import pytest
from django.db import OperationalError, connection
from django_tasks_db.models import DBTaskResult

from tasks_app import queues
from tasks_app.images import jobs as image_jobs
from tasks_app.models import Task, TaskImage
from tests import prodserver

pytestmark = pytest.mark.django_db(transaction=True)


def _finished_grids(count: int) -> list[Task]:
    return [
        Task.objects.create(
            id=f"17430000000009{n:02d}", status="SUCCESS", image_url=f"http://img.test/{n}.png"
        )
        for n in range(count)
    ]


def test_on_the_database_queue_an_outage_between_claim_and_job_keeps_neither(settings):
    settings.MJ_TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)}}
    tasks = _finished_grids(3)
    job_table = DBTaskResult._meta.db_table

    def database_gone_at_the_job_rows(execute, sql, params, many, context):
        if sql.startswith("INSERT") and job_table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_gone_at_the_job_rows), pytest.raises(OperationalError):
        image_jobs.images_archive_soon(tasks=tasks)
    assert not TaskImage.objects.exists()  # no claim without its job

    assert image_jobs.images_archive_soon(tasks=tasks) == 3  # the rerun claims every image
    queued = DBTaskResult.objects.filter(task_path__endswith="image_thumb")
    assert queued.count() == 3
    assert TaskImage.objects.filter(state=TaskImage.State.QUEUED).count() == 3


def test_on_rq_a_redis_that_does_not_answer_lets_the_claims_go(settings):
    settings.MJ_TASK_BACKEND = "rq"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": list(queues.ALL)}}
    nobody = f"redis://127.0.0.1:{prodserver.free_port()}/0"  # nothing listens there
    settings.RQ_QUEUES = {name: {"URL": nobody} for name in queues.ALL}
    tasks = _finished_grids(2)

    with pytest.raises(Exception, match="(?i)connect"):
        image_jobs.images_archive_soon(tasks=tasks)
    # The claims were written (an RQ job must find its claim) and then let go:
    # the next pass, here as the workers' tick would, takes both images at once.
    assert TaskImage.objects.filter(state=TaskImage.State.QUEUED).count() == 2
    settings.MJ_TASK_BACKEND = "immediate"
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": list(queues.ALL)}
    }
    assert image_jobs.images_archive_soon(tasks=tasks) == 2
