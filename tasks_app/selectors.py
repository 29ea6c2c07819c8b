"""Reads the views, templates and workers call: what the cache holds, never the relay."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tasks_app.models import Task, TaskImage
from tasks_app.relay import Status

# Unfinished tasks older than this are not followed any more: the relay has lost them.
FOLLOW_FOR = timedelta(days=7)


def tasks_in_order(*, ids: list[str]) -> list[Task]:
    """Cached tasks for these ids, in the order given, without asking the relay."""
    cached = Task.objects.for_display().in_bulk(ids)
    return [cached[i] for i in ids if i in cached]


def task_for_card(*, task_id: str) -> Task | None:
    return Task.objects.for_display().filter(pk=task_id).first()


def task_children(*, task: Task) -> list[Task]:
    """The tasks this task's buttons started, newest first."""
    return list(task.children.for_display().order_by("-first_seen"))


def task_relatives(*, task: Task) -> list[Task]:
    """The task's parent and the other tasks its parent's buttons started, oldest
    first: with its children, the set the detail page's lightbox steps through."""
    if task.parent_id is None:
        return []
    family = Q(pk=task.parent_id) | Q(parent_id=task.parent_id)
    return list(Task.objects.for_display().filter(family).exclude(pk=task.pk).order_by("first_seen", "pk"))


def tasks_to_follow(*, limit: int = 5000) -> list[str]:
    """IDs of unfinished tasks whose copy is older than their window, oldest first."""
    now = timezone.now()
    recent = Q(first_seen__gte=now - FOLLOW_FOR)
    stale = Q(last_fetched__isnull=True) | Q(
        last_fetched__lt=now - timedelta(seconds=settings.MJ_FRESHNESS_SECONDS)
    )
    candidates = Task.objects.unfinished().filter(recent, stale).order_by("last_fetched")[:limit]
    return [task.pk for task in candidates if task.is_due]


def anything_to_follow() -> bool:
    """Unfinished tasks to follow or images on their way: the workers' ticks go on."""
    now = timezone.now()
    if Task.objects.unfinished().filter(first_seen__gte=now - FOLLOW_FOR).exists():
        return True
    return TaskImage.objects.filter(
        Q(state__in=[TaskImage.State.QUEUED, TaskImage.State.RUNNING]) | Q(retry_at__isnull=False)
    ).exists()


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
