"""Reads for sets."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tasks_app.models import SetVisit, Task, TaskSet


def _kept() -> Q:
    """Not deleted, or deleted less than MJ_SET_PURGE_DAYS ago (not purged yet)."""
    cutoff = timezone.now() - timedelta(days=settings.MJ_SET_PURGE_DAYS)
    return Q(deleted_at__isnull=True) | Q(deleted_at__gte=cutoff)


def set_by_slug(*, slug: str) -> TaskSet | None:
    """A set that is not deleted (what exports, filters and edits act on)."""
    return TaskSet.objects.filter(slug=slug, deleted_at__isnull=True).first()


def set_by_slug_any(*, slug: str) -> TaskSet | None:
    """A set, deleted or not (its page says "deleted, restore"); purged ones are gone."""
    return TaskSet.objects.filter(_kept(), slug=slug).select_related("deleted_by").first()


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
    """The person's recent sets: those they made and those they opened (a teammate's
    link too), by the later of made and last opened, newest first. Two queries."""
    visits = {
        visit.task_set_id: visit
        for visit in SetVisit.objects.filter(user=user, task_set__deleted_at__isnull=True)
        .select_related("task_set__created_by")
        .order_by("-visited")[:limit]
    }
    own = TaskSet.objects.filter(created_by=user, deleted_at__isnull=True).order_by("-created")[:limit]
    found = {task_set.pk: task_set for task_set in own}
    for visit in visits.values():
        found.setdefault(visit.task_set_id, visit.task_set)

    def last_seen(task_set: TaskSet):
        visit = visits.get(task_set.pk)
        return max(task_set.created, visit.visited) if visit else task_set.created

    return sorted(found.values(), key=last_seen, reverse=True)[:limit]


def sets_deleted(*, user, limit: int = 10) -> list[TaskSet]:
    """The person's sets deleted and not purged yet, newest deletion first: home offers their restore."""
    return list(
        TaskSet.objects.filter(_kept(), created_by=user, deleted_at__isnull=False).order_by("-deleted_at")[
            :limit
        ]
    )


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
