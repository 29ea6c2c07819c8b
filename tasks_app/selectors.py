"""Reads the views, templates and workers call: what the cache holds, never the relay."""

from __future__ import annotations

from tasks_app.models import Task, TaskImage
from tasks_app.relay import Status


def tasks_in_order(*, ids: list[str]) -> list[Task]:
    """Cached tasks for these ids, in the order given, without asking the relay."""
    cached = Task.objects.for_display().in_bulk(ids)
    return [cached[i] for i in ids if i in cached]


def task_for_card(*, task_id: str) -> Task | None:
    return Task.objects.for_display().filter(pk=task_id).first()


def task_children(*, task: Task) -> list[Task]:
    """The tasks this task's buttons started, newest first."""
    return list(task.children.for_display().order_by("-first_seen"))


def images_pending(*, retry_failed: bool = False) -> list[tuple[Task, int, str]]:
    """(task, index, url) of every finished image not archived yet."""
    done = TaskImage.objects.all() if not retry_failed else TaskImage.objects.filter(state=TaskImage.State.OK)
    have = set(done.values_list("task_id", "index"))
    found = []
    for task in Task.objects.filter(status=Status.SUCCESS).order_by("pk").iterator():
        for index, url in task.image_sources:
            if (task.pk, index) not in have:
                found.append((task, index, url))
    return found
