"""Reads for sets."""

from __future__ import annotations

from tasks_app.models import Task, TaskSet


def set_by_slug(*, slug: str) -> TaskSet | None:
    return TaskSet.objects.filter(slug=slug).first()


# How many generations of button children a set's page follows (a chain of
# upscale, vary, zoom... rarely goes deeper).
CHILD_GENERATIONS = 8


def set_task_ids(*, task_set: TaskSet) -> list[str]:
    """The set's IDs, each followed by the tasks its buttons started (and theirs),
    oldest first: what the set's page, count and exports hold. One query a generation."""
    children: dict[str, list[str]] = {}
    seen = set(task_set.ids)
    parents = list(task_set.ids)
    for _generation in range(CHILD_GENERATIONS):
        if not parents:
            break
        found = (
            Task.objects.filter(parent_id__in=parents)
            .order_by("first_seen", "pk")
            .values_list("pk", "parent_id")
        )
        parents = []
        for task_id, parent_id in found:
            if task_id not in seen:
                seen.add(task_id)
                parents.append(task_id)
                children.setdefault(parent_id, []).append(task_id)
    ordered: list[str] = []

    def visit(task_id: str) -> None:
        ordered.append(task_id)
        for child in children.get(task_id, ()):
            visit(child)

    for task_id in task_set.ids:
        visit(task_id)
    return ordered


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
