"""Reads for the archive (/tasks/ without IDs): every task seen, newest first, filtered, by keyset pages.

A page is "the next N tasks older than the cursor" (first_seen, id): page 500
costs what page 1 costs, no OFFSET. Each filter has an index; the text search
is PostgreSQL full-text search over a GIN expression index (migration 0008),
a plain contains elsewhere.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from tasks_app.models import Star, Task, TaskSet, TaskTag
from tasks_app.organize.tags import tag_key

PAGE_SIZE = 48

# The exact expression the GIN index of migration 0008 is built on: the query
# must say it the same way for PostgreSQL to use the index.
SEARCH_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce(\"tasks_app_task\".\"prompt\", '') || ' ' || "
    "coalesce(\"tasks_app_task\".\"prompt_en\", '') || ' ' || "
    "coalesce((\"tasks_app_task\".\"properties\" ->> 'finalPrompt'), ''))"
)


@dataclass
class ArchiveFilters:
    status: str = ""
    action: str = ""
    submitted_from: date | None = None
    submitted_to: date | None = None
    set_slug: str = ""
    pressed_by: str = ""
    q: str = ""
    starred: bool = False  # starred by the person looking
    tag: str = ""

    @property
    def any(self) -> bool:
        return any(
            (
                self.status,
                self.action,
                self.submitted_from,
                self.submitted_to,
                self.set_slug,
                self.pressed_by,
                self.q,
                self.starred,
                self.tag,
            )
        )


@dataclass
class ArchivePage:
    tasks: list[Task] = field(default_factory=list)
    next_cursor: str = ""


def archive_tasks(*, filters: ArchiveFilters, user=None) -> QuerySet[Task]:
    """Every task matching the filters, newest first (what the archive and its exports read).
    `user`: whose stars "starred" means."""
    tasks = Task.objects.all()
    if filters.starred:
        tasks = (
            tasks.filter(pk__in=Star.objects.filter(user=user).values("task_id")) if user else tasks.none()
        )
    if filters.tag:
        tasks = tasks.filter(pk__in=TaskTag.objects.filter(tag__key=tag_key(filters.tag)).values("task_id"))
    if filters.status:
        tasks = tasks.filter(status=filters.status.upper())
    if filters.action:
        tasks = tasks.filter(action=filters.action.upper())
    if filters.submitted_from:
        tasks = tasks.filter(submit_time__gte=_day_start(filters.submitted_from))
    if filters.submitted_to:
        tasks = tasks.filter(submit_time__lt=_day_start(filters.submitted_to + timedelta(days=1)))
    if filters.pressed_by:
        tasks = tasks.filter(pressed_by__username=filters.pressed_by)
    if filters.set_slug:
        ids = (
            TaskSet.objects.filter(slug=filters.set_slug, deleted_at__isnull=True)
            .values_list("ids", flat=True)
            .first()
            or []
        )
        tasks = tasks.filter(pk__in=ids)
    if filters.q:
        tasks = tasks.filter(_search(filters.q))
    return tasks.order_by("-first_seen", "-id")


def archive_page(
    *, filters: ArchiveFilters, user=None, before: str = "", size: int = PAGE_SIZE
) -> ArchivePage:
    """One page of the archive: `size` tasks older than the cursor, and the next page's cursor."""
    tasks = archive_tasks(filters=filters, user=user)
    cursor = decode_cursor(before)
    if cursor is not None:
        seen, task_id = cursor
        tasks = tasks.filter(Q(first_seen__lt=seen) | Q(first_seen=seen, id__lt=task_id))
    found = list(tasks.prefetch_related("images")[: size + 1])
    page = ArchivePage(tasks=found[:size])
    if len(found) > size:
        page.next_cursor = encode_cursor(page.tasks[-1])
    return page


def encode_cursor(task: Task) -> str:
    raw = f"{task.first_seen.isoformat()}|{task.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, str] | None:
    """The (first_seen, id) of a cursor; None for none or a malformed one (the first page)."""
    if not value or len(value) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, _sep, task_id = raw.partition("|")
        seen = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not task_id.isdigit() or seen.tzinfo is None:
        return None
    return seen, task_id


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _search(text: str) -> Q | RawSQL:
    text = text.strip()[:200]
    if connection.vendor == "postgresql":
        return RawSQL(
            f"{SEARCH_DOCUMENT} @@ plainto_tsquery('simple'::regconfig, %s)",
            [text],
            output_field=BooleanField(),
        )
    return (
        Q(prompt__icontains=text) | Q(prompt_en__icontains=text) | Q(properties__finalPrompt__icontains=text)
    )
