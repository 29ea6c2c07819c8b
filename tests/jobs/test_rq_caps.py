"""On RQ, an image job that holds its worker past the images queue's cap
(RQ_QUEUES' DEFAULT_TIMEOUT, from MJ_IMAGE_JOB_SECONDS) is stopped and recorded
as failed, and the same worker process takes the next job: a real `manage.py
worker` on this run's Redis."""

import time

import pytest
from django.tasks import TaskResultStatus

from tasks_app import queues
from tests.jobs.worker_tasks import holds_its_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_image_job_over_its_cap_is_stopped_and_the_worker_goes_on(workers, settings, tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("RQ workers need Redis: the PostgreSQL + Redis pass runs this")
    workers.start(0, backend="rq")  # enqueue through RQ, as the web processes do
    images = {**settings.RQ_QUEUES[queues.IMAGES], "DEFAULT_TIMEOUT": 2}  # the enqueuer's cap
    settings.RQ_QUEUES = {**settings.RQ_QUEUES, queues.IMAGES: images}
    stuck, next_one = tmp_path / "stuck", tmp_path / "next"
    held = holds_its_worker.enqueue(str(stuck), 60.0)
    after = holds_its_worker.enqueue(str(next_one), 0.0)

    began = time.monotonic()
    worker = workers.start(1, backend="rq").processes[0]
    wait_until(
        lambda: next_one.exists() and next_one.read_text() == "finished", timeout=45, what="the next job"
    )

    assert time.monotonic() - began < 45  # not the stuck job's 60 s
    assert stuck.read_text() == "started"  # stopped mid-job
    assert holds_its_worker.get_result(held.id).status == TaskResultStatus.FAILED
    assert holds_its_worker.get_result(after.id).status == TaskResultStatus.SUCCESSFUL
    assert worker.poll() is None  # the worker process lives on
