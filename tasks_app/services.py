"""Use cases the views call: look up task IDs, keep the cache right."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tasks_app import upstream
from tasks_app.models import Task
from tasks_app.upstream import TaskRecord, UpstreamError

logger = logging.getLogger(__name__)

# Order of a task's life; a later answer never moves a task to a lower rank.
STATUS_RANK = {"NOT_START": 0, "SUBMITTED": 1, "MODAL": 1, "IN_PROGRESS": 2}
FINAL_RANK = 3
UNKNOWN_RANK = 1


@dataclass
class Lookup:
    """What the dashboard knows about a list of IDs, in the order asked."""

    tasks: list[Task] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    error: UpstreamError | None = None
    upstream_calls: int = 0

    @property
    def oldest_fetch(self) -> datetime | None:
        times = [task.last_fetched for task in self.tasks if task.last_fetched]
        return min(times) if times else None


def task_lookup(*, ids: list[str], force: bool = False) -> Lookup:
    """Answer from the cache what is final; ask the upstream for the rest.

    With force, every ID is asked again (a person pressed "refresh").
    """
    cached = Task.objects.in_bulk(ids)
    to_ask = [i for i in ids if force or i not in cached or not cached[i].is_final]
    lookup = Lookup()
    if to_ask:
        try:
            records = upstream.list_by_condition(to_ask)
        except UpstreamError as exc:
            logger.warning("lookup of %d ids failed: %s", len(to_ask), exc)
            lookup.error = exc
        else:
            lookup.upstream_calls = upstream.batch_count(len(to_ask))
            if records:
                task_store(records=records)
                cached = Task.objects.in_bulk(ids)
    lookup.tasks = [cached[i] for i in ids if i in cached]
    if lookup.error is None:
        lookup.not_found = [i for i in ids if i not in cached]
    return lookup


def task_store(*, records: list[TaskRecord]) -> list[str]:
    """Insert or update tasks atomically; return the ids that changed.

    A terminal task keeps its state; a lower-ranked (stale) answer is ignored.
    """
    now = timezone.now()
    by_id = {record.id: record for record in records}
    changed: list[str] = []
    with transaction.atomic():
        existing = Task.objects.select_for_update().in_bulk(list(by_id))
        new, updated = [], []
        for task_id, record in by_id.items():
            task = existing.get(task_id)
            if task is None:
                new.append(Task(id=task_id, last_fetched=now, **_fields(record)))
                changed.append(task_id)
                continue
            task.last_fetched = now
            if _accepts(task, record):
                before = (task.status, task.progress, task.image_url, task.buttons)
                for name, value in _fields(record, keep=task).items():
                    setattr(task, name, value)
                if (task.status, task.progress, task.image_url, task.buttons) != before:
                    changed.append(task_id)
            updated.append(task)
        if new:
            Task.objects.bulk_create(new, ignore_conflicts=True)
        if updated:
            Task.objects.bulk_update(updated, [*_FIELD_NAMES, "last_fetched"])
    return changed


def _rank(status: str) -> int:
    if status in upstream.TERMINAL_STATUSES:
        return FINAL_RANK
    return STATUS_RANK.get(status, UNKNOWN_RANK)


def _accepts(task: Task, record: TaskRecord) -> bool:
    if task.is_final:
        return record.status == task.status
    return _rank(record.status) >= _rank(task.status)


def _fields(record: TaskRecord, keep: Task | None = None) -> dict:
    fields = {
        "action": record.action[:40],
        "status": record.status[:40],
        "progress": record.progress,
        "prompt": record.prompt,
        "prompt_en": record.prompt_en,
        "description": record.description,
        "fail_reason": record.fail_reason,
        "image_url": record.image_url,
        "image_urls": list(record.image_urls),
        "video_url": record.video_url,
        "video_urls": list(record.video_urls),
        "submit_time": record.submit_time,
        "start_time": record.start_time,
        "finish_time": record.finish_time,
        "buttons": [
            {"customId": b.custom_id, "emoji": b.emoji, "label": b.label, "type": b.type, "style": b.style}
            for b in record.buttons
        ],
        "custom_id": record.custom_id,
        "bot_type": record.bot_type[:40],
        "state": record.state,
        "mask_base64": record.mask_base64,
        "properties": record.properties,
        "payload": record.raw,
    }
    if keep is not None:
        # An answer that lost a value we had (an empty image URL, no buttons)
        # does not erase it.
        for name in ("image_url", "image_urls", "buttons", "prompt", "submit_time", "start_time"):
            if not fields[name] and getattr(keep, name):
                fields[name] = getattr(keep, name)
    return fields


_FIELD_NAMES = list(_fields(TaskRecord(id="x")))


def tasks_in_order(*, ids: list[str]) -> list[Task]:
    """Cached tasks for these ids, in the order given, without asking upstream."""
    cached = Task.objects.in_bulk(ids)
    return [cached[i] for i in ids if i in cached]
