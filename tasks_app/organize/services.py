"""Writes: stars (each person's own) and tags (the team's), on one task or a selection."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from tasks_app.models import Star, Tag, Task, TaskTag
from tasks_app.organize.tags import tag_key


def known_ids(ids: list[str]) -> list[str]:
    """Those of `ids` the dashboard has stored, in the order given (a selection may name gone tasks)."""
    found = set(Task.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return [task_id for task_id in ids if task_id in found]


def tasks_star(*, user, ids: list[str], starred: bool = True) -> int:
    """Star (or unstar) these tasks for this person; how many changed."""
    ids = known_ids(ids)
    if not starred:
        return Star.objects.filter(user=user, task_id__in=ids).delete()[0]
    have = set(Star.objects.filter(user=user, task_id__in=ids).values_list("task_id", flat=True))
    new = [Star(user=user, task_id=task_id) for task_id in ids if task_id not in have]
    Star.objects.bulk_create(new, ignore_conflicts=True)  # a second tab starring at once: one star
    return len(new)


def tags_add(*, user, ids: list[str], names: list[str]) -> int:
    """Give these tasks these tags (made when new); how many task-tag pairs were added."""
    ids = known_ids(ids)
    if not ids or not names:
        return 0
    tags = _tags_get_or_create(user=user, names=names)
    have = set(TaskTag.objects.filter(task_id__in=ids, tag__in=tags).values_list("task_id", "tag_id"))
    new = [
        TaskTag(task_id=task_id, tag=tag, added_by=user)
        for task_id in ids
        for tag in tags
        if (task_id, tag.pk) not in have
    ]
    TaskTag.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def tags_remove(*, ids: list[str], names: list[str]) -> int:
    """Take these tags off these tasks; how many pairs were removed. The Tag rows
    stay (a teammate may be adding one at this moment); a tag no task carries is
    simply not listed (selectors.tag_counts)."""
    keys = [tag_key(name) for name in names]
    return TaskTag.objects.filter(task_id__in=ids, tag__key__in=keys).delete()[0]


def _tags_get_or_create(*, user, names: list[str]) -> list[Tag]:
    by_key = {tag_key(name): name for name in names}
    found = {tag.key: tag for tag in Tag.objects.filter(key__in=by_key)}
    for key, name in by_key.items():
        if key in found:
            continue
        try:
            with transaction.atomic():
                found[key] = Tag.objects.create(name=name, key=key, created_by=user)
        except IntegrityError:  # a teammate made it a moment ago
            found[key] = Tag.objects.get(key=key)
    return list(found.values())
