"""Named queues: with a slow image host, follow ticks go on; one image job holds
its worker at most MJ_IMAGE_JOB_SECONDS. Real worker processes, started by the
supervisor's own plan (what `make run` and `make prod` start), counted, not timed."""

from __future__ import annotations

import os
import time

import pytest
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tasks_app import queues, services
from tasks_app.models import TaskImage
from tasks_app.workers import supervisor

pytestmark = pytest.mark.timeout(240)


def _plan_started(workers, settings, **env) -> supervisor.Supervisor:
    """This host's workers as `manage.py workers` starts them, on the test database."""
    watcher = supervisor.Supervisor(supervisor.plan(), env={**os.environ, **workers._env(), **env})
    return watcher.start()


def _wait_for(condition, seconds: float = 90.0, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"waited {seconds:.0f} s for {what}")


def test_the_plan_keeps_ticks_and_presses_apart_from_images(settings):
    settings.MJ_TASK_BACKEND = "database"
    settings.MJ_IMAGE_WORKERS = 3

    plan = supervisor.plan()

    assert plan[0] == ["worker", "--queues", "follow,press,default"]
    assert plan[1:] == [["worker", "--queues", "images"]] * 3
    from tasks_app import jobs

    assert jobs.follow_tick.queue_name == queues.FOLLOW
    assert {jobs.press_send.queue_name, jobs.press_reconcile.queue_name, jobs.press_adopt.queue_name} == {
        queues.PRESS
    }


def test_follow_ticks_go_on_while_the_image_worker_waits_on_a_slow_host(workers, simulator, settings):
    settings.MJ_IMAGE_WORKERS = 1
    settings.MJ_FOLLOW_SECONDS = 0.25
    settings.MJ_IMAGE_TIMEOUT = 3.0  # each download of the trickling host ends at its deadline
    settings.MJ_IMAGE_RETRY_BACKOFF = 0.5
    simulator.timeout_sleep = 5.0
    simulator.set_fault("timeout", times=1000, routes="image")
    running = simulator.add_task(prompt="still running", queued=0.0, run=3600.0)
    grids = [simulator.add_task(prompt=f"grid {n}", queued=0.0, run=1.0) for n in range(3)]
    simulator.clock.advance(60)
    services.task_lookup(ids=[running, *grids])  # queues image jobs and starts the ticks

    def ticks() -> int:  # relay calls that asked about the running task
        return sum(running in batch for batch in list(simulator.list_batches))

    watcher = _plan_started(workers, settings)
    try:
        _wait_for(lambda: simulator.calls["image"] >= 1, what="the first image download")
        ticks_before, downloads_before = ticks(), simulator.calls["image"]
        _wait_for(lambda: simulator.calls["image"] >= downloads_before + 3, what="three more downloads")
        ticks_during, downloads = ticks() - ticks_before, simulator.calls["image"] - downloads_before
    finally:
        watcher.stop()

    # Each download held the image worker 3 s: ticks (due every 0.25 s, found by a
    # worker polling every 0.5 s) fit ~4 in each. Behind the downloads (one worker
    # for all queues) at most one tick fits between two image jobs of two downloads.
    print(f"\nslow image host: {ticks_during} follow ticks during {downloads} downloads")
    assert ticks_during >= 2 * downloads


def test_an_image_job_is_stopped_when_it_holds_its_worker_too_long(workers, simulator, settings):
    settings.MJ_IMAGE_WORKERS = 1
    settings.MJ_IMAGE_TIMEOUT = 30.0  # the download's own deadline would hold the worker 30 s
    simulator.timeout_sleep = 60.0
    simulator.set_fault("timeout", times=1000, routes="image")
    grids = [simulator.add_task(prompt=f"grid {n}", queued=0.0, run=1.0) for n in range(4)]
    simulator.clock.advance(60)
    services.task_lookup(ids=grids)
    thumbs = DBTaskResult.objects.filter(queue_name=queues.IMAGES, task_path__endswith="image_thumb")

    def stopped() -> list[DBTaskResult]:
        # JobTimeout is raised inside the job: it fails it, or the image (recorded, alone).
        failed_images = TaskImage.objects.filter(failure_detail__contains="JobTimeout").count()
        jobs = [j for j in thumbs.exclude(status=TaskResultStatus.READY) if j.finished_at]
        return jobs if len(jobs) >= 2 and failed_images + _timed_out(jobs) >= 2 else []

    watcher = _plan_started(workers, settings, MJ_IMAGE_JOB_SECONDS="1")
    try:
        _wait_for(stopped, what="two image jobs stopped at their cap")
        finished = stopped()
    finally:
        watcher.stop()

    held = [(j.finished_at - j.started_at).total_seconds() for j in finished]
    print(f"\nimage jobs stopped at a 1 s cap after {', '.join(f'{s:.1f}' for s in held)} s")
    assert all(seconds < 10 for seconds in held)  # not the download's 30 s deadline
    # The same worker process stopped them and went on: it was not held, nor restarted.
    assert len({job.worker_ids[-1] for job in finished}) == 1
    assert all(slot.restarts == 0 for slot in watcher.slots)


def _timed_out(jobs) -> int:
    return sum(job.exception_class_path.endswith("JobTimeout") for job in jobs)
