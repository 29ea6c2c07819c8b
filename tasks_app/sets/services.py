"""Writes for sets: save (or reuse) a set of IDs, rename it, add and remove tasks,
delete it (softly: restorable for MJ_SET_PURGE_DAYS), note who opened it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tasks_app.models import SetVisit, TaskSet
from tasks_app.sets.naming import set_auto_name


def ids_hash(ids: list[str]) -> str:
    return hashlib.sha256(",".join(ids).encode()).hexdigest()


def set_save(*, user, ids: list[str]) -> TaskSet:
    """The set of these IDs (in this order) made by this person: an existing one, or a new one."""
    digest = ids_hash(ids)
    found = (
        TaskSet.objects.filter(created_by=user, ids_hash=digest, deleted_at__isnull=True)
        .order_by("-created")
        .first()
    )
    if found is not None and found.ids == ids:
        return found
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return TaskSet.objects.create(
                    slug=secrets.token_urlsafe(8)[:11], ids=list(ids), ids_hash=digest, created_by=user
                )
        except IntegrityError:  # a slug collision: astronomically rare, try another
            continue
    raise RuntimeError("could not find a free set slug")


def set_rename(*, task_set: TaskSet, name: str) -> TaskSet:
    task_set.name = name.strip()[:100]
    task_set.save(update_fields=["name"])
    return task_set


def set_name_default(*, task_set: TaskSet, tasks) -> None:
    """Give an unnamed set its readable name (first prompt words and the date) once a prompt is known."""
    if task_set.name or task_set.auto_name:
        return
    name = set_auto_name(task_set=task_set, tasks=tasks)
    if name:
        task_set.auto_name = name
        TaskSet.objects.filter(pk=task_set.pk, auto_name="").update(auto_name=name)


def set_add(*, task_set: TaskSet, ids: list[str]) -> tuple[int, int]:
    """Append these IDs (those not in it yet) up to MJ_MAX_IDS; (added, left out)."""
    with transaction.atomic():
        fresh = TaskSet.objects.select_for_update().get(pk=task_set.pk)
        have = set(fresh.ids)
        new = [task_id for task_id in dict.fromkeys(ids) if task_id not in have]
        room = max(0, settings.MJ_MAX_IDS - len(fresh.ids))
        taken = new[:room]
        if taken:
            _ids_save(fresh, fresh.ids + taken)
    task_set.ids, task_set.ids_hash = fresh.ids, fresh.ids_hash
    return len(taken), len(new) - len(taken)


def set_remove(*, task_set: TaskSet, ids: list[str]) -> tuple[int, int]:
    """Take these IDs out of the set; (removed, kept). A task its buttons started
    (shown after its parent, not in the list) stays while its parent is in the set."""
    gone = set(ids)
    with transaction.atomic():
        fresh = TaskSet.objects.select_for_update().get(pk=task_set.pk)
        kept_ids = [task_id for task_id in fresh.ids if task_id not in gone]
        removed = len(fresh.ids) - len(kept_ids)
        if removed:
            _ids_save(fresh, kept_ids)
    task_set.ids, task_set.ids_hash = fresh.ids, fresh.ids_hash
    return removed, len(gone) - removed


def set_delete(*, task_set: TaskSet, user) -> None:
    """Delete softly: the set keeps its link, which says "deleted" and offers a restore,
    for MJ_SET_PURGE_DAYS; sets deleted longer ago than that are purged now."""
    task_set.deleted_at = timezone.now()
    task_set.deleted_by = user
    task_set.save(update_fields=["deleted_at", "deleted_by"])
    sets_purge()


def set_restore(*, task_set: TaskSet) -> None:
    task_set.deleted_at = None
    task_set.deleted_by = None
    task_set.save(update_fields=["deleted_at", "deleted_by"])


def sets_purge() -> int:
    """Delete for good the sets deleted more than MJ_SET_PURGE_DAYS ago (one indexed DELETE)."""
    cutoff = timezone.now() - timedelta(days=settings.MJ_SET_PURGE_DAYS)
    return TaskSet.objects.filter(deleted_at__lt=cutoff).delete()[0]


def set_visit(*, user, task_set: TaskSet) -> None:
    """This person opened this set: it shows among their recent sets (one upsert)."""
    SetVisit.objects.bulk_create(
        [SetVisit(user=user, task_set=task_set, visited=timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "task_set"],
        update_fields=["visited"],
    )


def _ids_save(task_set: TaskSet, ids: list[str]) -> None:
    task_set.ids = ids
    task_set.ids_hash = ids_hash(ids)
    task_set.save(update_fields=["ids", "ids_hash"])
