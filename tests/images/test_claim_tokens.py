"""An image is downloaded only by the job holding its claim token (images/archive.py).

Jobs may be delivered late (a claim that expired and was handed to another
job) or twice (a queue that redelivers): either way the job whose token is
no longer the image's own, or whose image is no longer queued, downloads
nothing. Counted as requests to the image host, not as outcomes: a job that
downloaded and then failed to record would still have fetched the bytes.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app import services
from tasks_app.images import archive
from tasks_app.models import Task, TaskImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def finished(simulator, jobs_held):
    """A finished task stored while no worker runs: its images are claimed, not downloaded."""
    task_id = simulator.add_task(prompt="a lighthouse at dusk", action="UPSCALE", run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    simulator.reset_counters()
    return Task.objects.get(pk=task_id)


def _claim(task) -> archive.Claim:
    TaskImage.objects.filter(task=task).delete()  # whatever the lookup's scheduling queued
    [claim] = archive.images_claim(tasks=[task])
    return claim


def test_a_job_whose_claim_was_handed_to_another_downloads_nothing(finished, simulator):
    late = _claim(finished)
    # Its job was not started in time; the next scheduling pass hands the image on.
    TaskImage.objects.filter(task=finished).update(claimed_until=timezone.now() - timedelta(seconds=1))
    [current] = archive.images_claim(tasks=[finished])
    assert current.token != late.token

    assert archive.image_archive(late) == "not_ours"
    assert simulator.calls["image"] == 0

    assert archive.image_archive(current) == "ok"
    assert simulator.calls["image"] == 1
    assert TaskImage.objects.get(task=finished).claim == current.token


def test_a_job_delivered_twice_downloads_once(finished, simulator):
    claim = _claim(finished)

    assert archive.image_archive(claim) == "ok"
    assert archive.image_archive(claim) == "not_ours"

    assert simulator.calls["image"] == 1


def test_a_job_with_a_token_never_issued_downloads_nothing(finished, simulator):
    claim = _claim(finished)

    assert archive.image_archive(claim._replace(token="0" * 32)) == "not_ours"

    assert simulator.calls["image"] == 0
    assert TaskImage.objects.get(task=finished).state == TaskImage.State.QUEUED
