"""Background work with real workers: `manage.py worker` processes on the
test database, the relay simulator on loopback, no page open unless a test
opens one."""

import os
import signal
from pathlib import Path

import pytest
import requests
from django.core.files.storage import default_storage
from django_tasks_db.models import DBTaskResult
from PIL import Image

from tasks_app import jobs, services
from tasks_app.models import Press, Task, TaskImage
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _archived(task_ids) -> int:
    return TaskImage.objects.filter(task_id__in=task_ids, state=TaskImage.State.OK).count()


def test_a_task_that_finishes_with_no_page_open_is_archived_before_its_link_expires(
    workers, simulator, logged_in
):
    task_id = simulator.add_task(prompt="a fox in the snow", action="UPSCALE", queued=0.0, run=20.0)
    simulator.clock.advance(5)
    services.task_lookup(ids=[task_id])  # someone pasted it while it ran, then closed the tab
    workers.start(1)

    simulator.clock.advance(30)  # it finishes at the relay; no page is open
    wait_until(lambda: _archived([task_id]) == 1, what="the worker to follow and archive it")

    link = simulator.payload(task_id)["imageUrl"]
    simulator.clock.advance(3 * 86400)  # the relay's link expires
    assert requests.get(link, timeout=5).status_code == 404
    page = logged_in.get("/tasks/", {"ids": task_id}).content.decode()
    signed = page.split(f"/tasks/{task_id}/thumb.webp?v=", 1)[1].split('"', 1)[0]
    thumb = logged_in.get(f"/tasks/{task_id}/thumb.webp?v={signed}")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"


@pytest.mark.parametrize("backend", ["database", "rq"])
def test_a_hundred_tasks_finishing_at_once_are_archived_by_two_workers_one_download_each(
    workers, simulator, settings, backend
):
    if backend == "rq" and not getattr(settings, "REDIS_URL", ""):
        pytest.skip("RQ workers need Redis: the PostgreSQL + Redis pass runs this")
    # Still queued when looked up: a running task's progress preview is a download too,
    # and this counts final images only.
    ids = [simulator.add_task(prompt=f"fox {n}", action="UPSCALE", queued=5.0, run=10.0) for n in range(100)]
    simulator.clock.advance(2)
    if backend == "rq":
        workers.start(0, backend="rq")  # enqueue through RQ from here on, as the web processes would
    services.task_lookup(ids=ids)
    simulator.reset_counters()
    workers.start(2, backend=backend)

    simulator.clock.advance(60)
    wait_until(lambda: _archived(ids) == 100, timeout=120, what="100 archived images")

    assert simulator.calls["image"] == 100
    assert TaskImage.objects.filter(task_id__in=ids).count() == 100


def test_pages_and_thumbnails_answer_at_once_and_never_download(workers, simulator, logged_in, settings):
    settings.MJ_LOOKUP_WAIT_SECONDS = 0.2
    simulator.timeout_sleep = 5.0  # the image host is slow...
    simulator.set_fault("timeout", routes="image", times=50)
    task_id = simulator.add_task(prompt="slow host", action="UPSCALE", queued=0.0, run=1.0)
    simulator.clock.advance(30)  # finished before anyone looked; no worker runs yet

    first = logged_in.get("/tasks/", {"ids": task_id}).content.decode()
    assert simulator.calls["list"] == 0  # the page asked nobody: a worker will look it up
    assert 'class="card card-lookup"' in first and f'data-poll-id="{task_id}" data-poll-stamp=""' in first
    queued = DBTaskResult.objects.get(task_path__endswith=".tasks_lookup")
    jobs.tasks_lookup.call(*queued.args_kwargs["args"])  # what the worker does with it

    page = logged_in.get("/tasks/", {"ids": task_id})
    thumb = logged_in.get(f"/tasks/{task_id}/thumb.webp")
    detail = logged_in.get(f"/tasks/{task_id}/")

    assert simulator.calls["list"] == 1 and simulator.calls["image"] == 0  # ...and no request waited for it
    assert page.status_code == 200 and "archiving the image" in page.content.decode()
    assert f'data-poll-id="{task_id}"' in page.content.decode()  # the poller will swap it in
    assert thumb.status_code == 503 and thumb["Retry-After"]
    assert detail.status_code == 200 and "archiving the image" in detail.content.decode()

    simulator.clear_faults()
    workers.start(1)
    wait_until(lambda: _archived([task_id]) == 1, what="the worker to archive it")
    assert logged_in.get(f"/tasks/{task_id}/thumb.webp").status_code == 200


def test_a_worker_killed_mid_download_leaves_no_half_file_and_the_next_one_finishes(
    workers, simulator, settings
):
    settings.MJ_CLAIM_SECONDS = 2.0
    settings.MJ_IMAGE_TIMEOUT = 60.0
    simulator.timeout_sleep = 30.0
    simulator.set_fault("timeout", routes="image", times=1)  # the first download hangs
    task_id = simulator.add_task(prompt="interrupted", action="UPSCALE", queued=0.0, run=1.0)
    simulator.clock.advance(30)
    services.task_lookup(ids=[task_id])
    first = workers.start(1).processes[0]
    wait_until(
        lambda: TaskImage.objects.filter(task_id=task_id, state=TaskImage.State.RUNNING).exists(),
        what="the download to start",
    )

    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    workers.start(1)

    wait_until(lambda: _archived([task_id]) == 1, timeout=60, what="the next worker to take over")
    image = TaskImage.objects.get(task_id=task_id)
    assert TaskImage.objects.filter(task_id=task_id).count() == 1
    assert default_storage.size(image.original) == image.bytes
    for path in Path(settings.MEDIA_ROOT).rglob("*.*"):
        Image.open(path).verify()  # every file stored is whole


def test_a_press_answers_at_once_and_the_worker_sends_it(workers, simulator, user, client, settings):
    settings.MJ_PRESS_ANSWER_SECONDS = 0.2
    user.is_staff = True
    user.save()
    client.force_login(user)
    grid = simulator.add_task(prompt="a lighthouse", queued=0.0, run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[grid])
    u2 = next(b["customId"] for b in Task.objects.get(pk=grid).buttons if b["label"] == "U2")
    simulator.reset_counters()

    first = client.post(f"/tasks/{grid}/action", {"custom_id": u2}, HTTP_HX_REQUEST="true")
    second = client.post(f"/tasks/{grid}/action", {"custom_id": u2}, HTTP_HX_REQUEST="true")

    assert simulator.calls["action"] == 0  # no request waited for the relay
    press = Press.objects.get(task_id=grid, custom_id=u2)
    status_url = f"/tasks/{grid}/presses/{press.pk}"
    for answer in (first, second):
        assert answer.status_code == 200
        assert f'hx-get="{status_url}"' in answer.content.decode()

    workers.start(1)
    wait_until(lambda: Press.objects.get(pk=press.pk).state == Press.State.DONE, what="the press to be sent")
    child = Task.objects.get(parent_id=grid)
    settled = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert child.id in settled and 'hx-swap-oob="afterbegin:#task-grid"' in settled
    assert "hx-get" not in settled.split("<div", 1)[0]  # it stops asking
    assert simulator.calls["action"] == 1  # a double press, sent once


def test_a_passing_image_host_failure_is_tried_again_by_itself(workers, simulator, settings):
    settings.MJ_IMAGE_RETRY_BACKOFF = 0.5
    simulator.set_fault("500", routes="image", times=1)
    task_id = simulator.add_task(prompt="flaky host", action="UPSCALE", queued=0.0, run=1.0)
    simulator.clock.advance(30)
    services.task_lookup(ids=[task_id])
    workers.start(1)

    wait_until(lambda: _archived([task_id]) == 1, what="the retry to archive it")
    image = TaskImage.objects.get(task_id=task_id)
    assert image.tries == 1 and image.retry_at is None
    assert simulator.calls["image"] == 2


def test_an_expired_link_is_fetched_again_from_the_relay_before_the_download_is_retried(workers, simulator):
    simulator.resign_urls = True  # a fresh answer carries a link valid from now
    task_id = simulator.add_task(prompt="late archive", action="UPSCALE", queued=0.0, run=1.0)
    simulator.clock.advance(30)
    services.task_lookup(ids=[task_id])  # stored with a link valid for about a day; no worker yet
    simulator.clock.advance(3 * 86400)  # the stored link has expired by the time a worker runs
    simulator.reset_counters()
    workers.start(1)

    wait_until(lambda: _archived([task_id]) == 1, what="a fresh link to be archived")
    assert simulator.calls["list"] >= 1  # the relay was asked for the task again
    assert simulator.calls["image"] == 2  # the expired link, then the fresh one
