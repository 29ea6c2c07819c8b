"""Reads for sets."""

from __future__ import annotations

from tasks_app.models import Task, TaskSet


def set_by_slug(*, slug: str) -> TaskSet | None:
    return TaskSet.objects.filter(slug=slug).first()


def sets_recent(*, user, limit: int = 10) -> list[TaskSet]:
    return list(TaskSet.objects.filter(created_by=user).order_by("-created")[:limit])


def tasks_of_sets(*, sets: list[TaskSet], limit: int = 24) -> list[Task]:
    """The cached tasks of these sets, in set order then ID order, at most `limit`, one query."""
    ids: list[str] = []
    seen: set[str] = set()
    for task_set in sets:
        for task_id in task_set.ids:
            if task_id not in seen:
                seen.add(task_id)
                ids.append(task_id)
            if len(ids) >= limit * 4:
                break
    cached = Task.objects.for_display().in_bulk(ids)
    return [cached[i] for i in ids if i in cached][:limit]
