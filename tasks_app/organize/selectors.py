"""Reads: what a card shows of stars and tags, and the archive's counts.

Cards are marked in two queries however many (cards_mark): the person's stars
among them, and their tags. A card rendered on its own (a poll answer, a press's
new child) is marked by the {% card %} tag when no one marked it before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count

from tasks_app.models import SetVisit, Star, Task, TaskSet, TaskTag


def cards_mark(*, tasks: Iterable[Task], user) -> None:
    """Set `starred` (this person's star) and `tag_names` on each task, in two queries."""
    tasks = [task for task in tasks if task is not None]
    if not tasks:
        return
    ids = [task.pk for task in tasks]
    starred = set()
    if user is not None and user.is_authenticated:
        starred = set(Star.objects.filter(user=user, task_id__in=ids).values_list("task_id", flat=True))
    names: dict[str, list[str]] = {}
    pairs = TaskTag.objects.filter(task_id__in=ids).order_by("tag__key").values_list("task_id", "tag__name")
    for task_id, name in pairs:
        names.setdefault(task_id, []).append(name)
    for task in tasks:
        task.starred = task.pk in starred
        task.tag_names = names.get(task.pk, [])


def is_marked(task) -> bool:
    return hasattr(task, "tag_names")


@dataclass
class Facets:
    """The archive's choices, each with how many tasks it holds."""

    starred: int = 0
    tags: list[tuple[str, int]] = field(default_factory=list)  # (name, tasks)
    people: list[tuple[str, int]] = field(default_factory=list)  # (username, tasks pressed)
    sets: list[tuple[str, str, int]] = field(default_factory=list)  # (slug, title, tasks)
    own_sets: list[TaskSet] = field(default_factory=list)  # where a selection may be added


def archive_facets(*, user, set_limit: int = 20) -> Facets:
    """Counts for the archive's filters: the person's stars, every tag, who pressed, their sets."""
    facets = Facets()
    facets.starred = Star.objects.filter(user=user).count()
    facets.tags = list(tag_counts())
    username = f"pressed_by__{get_user_model().USERNAME_FIELD}"
    people = (
        Task.objects.filter(pressed_by__isnull=False)
        .values(username)
        .annotate(n=Count("pk"))
        .order_by(username)
    )
    facets.people = [(row[username], row["n"]) for row in people]
    facets.own_sets = sets_own(user=user, limit=set_limit)
    visited = sets_visited(user=user, limit=set_limit)
    facets.sets = [(s.slug, s.title, len(s.ids)) for s in (facets.own_sets + visited)[:set_limit]]
    return facets


def tag_counts() -> list[tuple[str, int]]:
    """Every tag some task carries, with how many, by name."""
    rows = TaskTag.objects.values("tag__key", "tag__name").annotate(n=Count("pk")).order_by("tag__key")
    return [(row["tag__name"], row["n"]) for row in rows]


def sets_visited(*, user, limit: int = 20) -> list[TaskSet]:
    """Teammates' sets the person opened, last opened first, not deleted."""
    visits = (
        SetVisit.objects.filter(user=user, task_set__deleted_at__isnull=True)
        .exclude(task_set__created_by=user)
        .select_related("task_set")
        .order_by("-visited")[:limit]
    )
    return [visit.task_set for visit in visits]


def sets_own(*, user, limit: int = 20) -> list[TaskSet]:
    """The person's own sets, newest first: where a selection may be added."""
    return list(TaskSet.objects.filter(created_by=user, deleted_at__isnull=True).order_by("-created")[:limit])
