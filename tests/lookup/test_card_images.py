"""Cards read only the image row they show, and none of its worker-only columns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app import services
from tasks_app.models import Task, TaskImage

pytestmark = pytest.mark.django_db


def _task(task_id: str, *, image_url: str, urls: int) -> Task:
    task = Task.objects.create(
        id=task_id,
        status="SUCCESS",
        image_url=image_url,
        image_urls=[f"http://img.test/{task_id}_{n}.png" for n in range(1, urls + 1)],
    )
    first = 0 if image_url else 1
    TaskImage.objects.bulk_create(
        TaskImage(
            task=task,
            index=index,
            source_url=f"http://img.test/{task_id}/{index}.png",
            state="ok",
            thumb=f"images/{task_id}-{index}.webp",
            sha256=f"{index:064d}",
        )
        for index in range(first, urls + 1)
    )
    return task


def test_a_re_lookup_reads_one_image_row_a_card_in_two_queries():
    grid = _task("1743000000000101", image_url="http://img.test/grid.png", urls=4)  # rows 0-4
    urls_only = _task("1743000000000102", image_url="", urls=4)  # rows 1-4: its card shows row 1

    with CaptureQueriesContext(connection) as queries:
        tasks = services.task_lookup(ids=[grid.pk, urls_only.pk]).tasks
        shown = [(task.pk, task.main_image.index, task.main_image.thumb) for task in tasks]

    assert len(queries) == 2  # the tasks, their card rows
    assert [len(task.card_images) for task in tasks] == [1, 1]
    assert shown == [
        (grid.pk, 0, f"images/{grid.pk}-0.webp"),
        (urls_only.pk, 1, f"images/{urls_only.pk}-1.webp"),
    ]
    image = tasks[0].main_image
    assert set(TaskImage.WORKER_FIELDS) <= image.get_deferred_fields()
    assert "source_url" not in queries[1]["sql"].split("FROM")[0]
