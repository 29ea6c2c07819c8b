"""The 8 KB thumbnail a card shows is ready as soon as it exists: when many tasks
finish at once, one real worker builds every waiting thumbnail before any large
rendition or quadrant (images/jobs.py priorities), in the order it records."""

import pytest
from django_tasks_db.models import DBTaskResult

from tasks_app import services
from tasks_app.models import TaskImage
from tests.waiting import wait_until

# Real worker processes on a shared machine: more than the suite's usual time limit.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

UPSCALES, GRIDS = 18, 2  # 20 tasks: 18 + 2 x 5 = 28 images, 20 of them with renditions


def test_every_thumbnail_is_ready_before_any_rendition_is_built(workers, simulator):
    ids = [simulator.add_task(prompt=f"a heron {n}", action="UPSCALE", run=10.0) for n in range(UPSCALES)]
    ids += [simulator.add_task(prompt=f"a grid {n}", action="IMAGINE", run=10.0) for n in range(GRIDS)]
    simulator.clock.advance(5)
    services.task_lookup(ids=ids)  # pasted while they ran, then the tab was closed
    workers.start(1)
    simulator.clock.advance(60)  # all 20 finish at once: the worker's next tick sees it

    renditions = DBTaskResult.objects.filter(task_path__endswith=".image_renditions")
    wait_until(
        lambda: renditions.filter(status="SUCCESSFUL").count() == UPSCALES + GRIDS,
        what="every large rendition and quadrant",
        timeout=180.0,
    )
    thumbs = DBTaskResult.objects.filter(task_path__endswith=".image_thumb")
    images = UPSCALES + 5 * GRIDS
    assert thumbs.filter(status="SUCCESSFUL").count() == images
    assert TaskImage.objects.filter(state=TaskImage.State.OK).count() == images
    first_rendition = min(renditions.values_list("started_at", flat=True))
    # Every thumbnail's job had finished, and its image was marked ready (the card
    # shows it), before the worker started the first rendition.
    assert max(thumbs.values_list("finished_at", flat=True)) < first_rendition
    assert max(TaskImage.objects.values_list("updated", flat=True)) < first_rendition
    assert all(value == "ok" for value in renditions.values_list("return_value", flat=True))
