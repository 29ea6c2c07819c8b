"""Hostile images (simulator/hostile.py) archived beside ordinary ones by one real
worker: each fails alone and for good, with its reason on the card; no image is
fetched twice; the worker's memory stays bounded."""

import re
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from tasks_app import services
from tasks_app.models import TaskImage
from tests.waiting import wait_until

# Real worker processes on a shared machine: more than the suite's usual time limit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

# A db_worker is about 70 MB before its first job; one ordinary picture decoded
# adds a few tens. Decoding the 88-megapixel bomb took a worker to 893 MB.
RSS_BOUND = 200 * 2**20
ORDINARY = 4
# kind -> (images a task has, downloads each gets, the reason it fails for good)
HOSTILE = {
    "bomb": ("UPSCALE", 1, 1, "bomb"),
    "tall": ("IMAGINE", 5, 1, "aspect"),  # a 1 x 100,000 grid and its quadrant links
    "thin": ("IMAGINE", 5, 1, "aspect"),  # 2 x 40,000
    "truncated": ("UPSCALE", 1, 1, "not_image"),
    "trickle": ("UPSCALE", 1, 2, "timeout"),  # a passing failure: tried again once (MJ_IMAGE_RETRIES)
}


def _peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) * 1024


def _thumb_jobs():
    return DBTaskResult.objects.filter(task_path__endswith=".image_thumb")


def test_hostile_images_fail_alone_and_for_good_beside_ordinary_ones(workers, simulator, settings, logged_in):
    settings.MJ_IMAGE_TIMEOUT = 4.0  # the trickling host (16 KB/s) is cut off; nothing else is
    settings.MJ_IMAGE_RETRIES = 1
    settings.MJ_IMAGE_RETRY_BACKOFF = 0.2
    ordinary = [simulator.add_task(prompt=f"a fox {n}", action="UPSCALE", run=1.0) for n in range(ORDINARY)]
    hostile = {
        kind: simulator.add_task(prompt=f"hostile {kind}", action=action, run=1.0, hostile=kind)
        for kind, (action, *_rest) in HOSTILE.items()
    }
    for task_id in [*ordinary, hostile["trickle"], hostile["truncated"]]:
        # Drawn before the worker asks: on a loaded machine drawing a picture may
        # take longer than a download's deadline, which would be a timeout, tried again.
        simulator.images.png(simulator.task(task_id).look[0], None if task_id in ordinary else 1, "single")
    simulator.clock.advance(60)  # all finished at the relay
    worker = workers.start(1).processes[0]
    services.task_lookup(ids=[*hostile.values(), *ordinary])  # hostile ones first in the queue

    def settled():
        images = TaskImage.objects.all()
        ok = images.filter(task_id__in=ordinary, state=TaskImage.State.OK).count()
        failed = images.filter(task_id__in=hostile.values(), state=TaskImage.State.FAILED)
        gone = failed.filter(retry_at=None).count()
        return ok == ORDINARY and gone == sum(n for _action, n, *_rest in HOSTILE.values())

    wait_until(settled, what="every image archived or refused for good", timeout=120.0)

    # One download an ordinary image, as without the hostile ones; one a hostile image
    # (the trickle's passing failure: one more); no job crashed.
    assert {task_id: simulator.image_requests[task_id] for task_id in ordinary} == dict.fromkeys(ordinary, 1)
    for kind, (_action, images, downloads, reason) in HOSTILE.items():
        assert simulator.image_requests[hostile[kind]] == images * downloads, kind
        rows = TaskImage.objects.filter(task_id=hostile[kind])
        assert {(row.failure, row.state) for row in rows} == {(reason, TaskImage.State.FAILED)}, kind
    assert not DBTaskResult.objects.filter(status="FAILED").exists()
    # Each image had a job of its own, run once a download: the ordinary ones waited
    # for at most one job a hostile image, never for a retry loop.
    assert _thumb_jobs().filter(status="SUCCESSFUL").count() == ORDINARY + sum(
        n * d for _a, n, d, _r in HOSTILE.values()
    )
    last_ordinary = max(job.finished_at for job in _thumb_jobs() if job.args_kwargs["args"][0] in ordinary)
    before = _thumb_jobs().filter(finished_at__lte=last_ordinary).count()
    assert before <= ORDINARY + sum(n for _a, n, _d, _r in HOSTILE.values())

    peak = _peak_rss(worker.pid)
    print(f"worker peak RSS {peak / 2**20:.0f} MB (bound {RSS_BOUND / 2**20:.0f} MB)")
    assert peak < RSS_BOUND

    # The card says why, and offers "Retry"; only that fetches the image again.
    card = logged_in.get("/tasks/", {"ids": hostile["bomb"]}).content.decode()
    assert "too many pixels" in card and "Retry download" in card
    downloads = sum(simulator.image_requests.values())
    ticks = DBTaskResult.objects.filter(task_path__endswith="follow_tick").count()
    services.task_lookup(ids=[hostile["trickle"], *ordinary])  # a viewer looks again: no fetch
    wait_until(
        lambda: not DBTaskResult.objects.filter(status="READY").exists(),
        what="the queue to drain",
        timeout=120.0,
    )
    assert sum(simulator.image_requests.values()) == downloads
    assert DBTaskResult.objects.filter(task_path__endswith="follow_tick").count() >= ticks

    assert logged_in.post(f"/tasks/{hostile['bomb']}/image/retry").status_code in (200, 302, 303)
    wait_until(
        lambda: simulator.image_requests[hostile["bomb"]] == 2, what="the retry's download", timeout=120.0
    )
    wait_until(
        lambda: TaskImage.objects.filter(task_id=hostile["bomb"], state="failed", retry_at=None).exists(),
        what="the retry to fail again",
        timeout=120.0,
    )
    assert TaskImage.objects.get(task_id=hostile["bomb"]).failure == "bomb"
    assert _peak_rss(worker.pid) < RSS_BOUND
