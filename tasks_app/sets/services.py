"""Writes for sets: save (or reuse) a set of IDs, rename it, delete it."""

from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction

from tasks_app.models import TaskSet


def ids_hash(ids: list[str]) -> str:
    return hashlib.sha256(",".join(ids).encode()).hexdigest()


def set_save(*, user, ids: list[str]) -> TaskSet:
    """The set of these IDs (in this order) made by this person: an existing one, or a new one."""
    digest = ids_hash(ids)
    found = TaskSet.objects.filter(created_by=user, ids_hash=digest).order_by("-created").first()
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


def set_delete(*, task_set: TaskSet) -> None:
    task_set.delete()
