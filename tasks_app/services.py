"""Writes the views call: look up task IDs at the relay, keep the cache right."""

from __future__ import annotations

import logging
import math
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from mjdash.cache import cache_down
from tasks_app import jobs, lookups, relay
from tasks_app.buttons.rows import USED_STYLE
from tasks_app.images import archive
from tasks_app.images import jobs as image_jobs
from tasks_app.lineage import hashes
from tasks_app.lineage.services import lineage_link
from tasks_app.models import Press, Task, card_image_prefetch
from tasks_app.relay import TaskRecord, UpstreamError
from tasks_app.relay.records import MAX_CUSTOM_ID_LENGTH

logger = logging.getLogger(__name__)

ERROR_KEY = "mjdash:upstream-error"
CLAIM_LOCK = "mjdash:claiming"
CLAIM_LOCK_SECONDS = 2


@dataclass
class Lookup:
    """What the dashboard knows about a list of IDs, in the order asked."""

    tasks: list[Task] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    error: UpstreamError | None = None
    pending: list[str] = field(default_factory=list)  # being looked up by a worker (lookups.py)
    order: list[str] = field(default_factory=list)  # the IDs asked, when there are pending ones

    @property
    def cards(self) -> list[tuple[str, Task | None]]:
        """(id, task) in the order asked; task None while the ID is being looked up."""
        by_id = {task.id: task for task in self.tasks}
        if not self.pending:
            return [(task.id, task) for task in self.tasks]
        looking = set(self.pending)
        return [(i, by_id.get(i)) for i in self.order if i in by_id or i in looking]

    @property
    def oldest_fetch(self) -> datetime | None:
        times = [task.last_fetched for task in self.tasks if task.last_fetched]
        return min(times) if times else None


@dataclass
class Poll:
    """One poller answer: the cards the page lacks and when to ask again."""

    lookup: Lookup
    changed: list[Task]
    live: list[Task]
    interval: float
    failures: int = 0


def task_lookup(*, ids: list[str], force: bool = False) -> Lookup:
    """Answer from the cache what is final or fresh; ask the upstream for the rest.

    An unfinished task is asked at most once per freshness window, whoever
    asks (viewers, tabs, app processes share the claim in Django's cache).
    With force, every ID is asked again (a person pressed "refresh").
    """
    cached = Task.objects.for_display().in_bulk(ids)
    if force:
        to_ask, claimed = list(ids), []
    else:
        claimed = _claim_all([cached[i] for i in ids if i in cached and cached[i].is_due])
        mine = {task.id for task in claimed}
        to_ask = [i for i in ids if i not in cached or i in mine]
    lookup = Lookup()
    if to_ask:
        stored: dict[str, Task] = {}
        try:
            # Each batch is stored as it arrives, while the others are still on the wire.
            for records in relay.list_batches(to_ask):
                if records:
                    stored.update(_store(records)[1])
        except UpstreamError as exc:
            _release(claimed)
            logger.warning("lookup of %d ids failed: %s", len(to_ask), exc)
            lookup.error = exc
            cache.set(
                ERROR_KEY, (type(exc).__name__, exc.detail), timeout=int(settings.MJ_POLL_MAX_INTERVAL) or 1
            )
        else:
            cache.delete(ERROR_KEY)
            _release(claimed)
        if stored:
            # The rows just written, not read back: only their images are fetched again.
            prefetch_related_objects(list(stored.values()), card_image_prefetch())
            cached.update(stored)
    if lookup.error is None and any(not task.is_final for task in cached.values()):
        # Someone else asked for us this window; if that failed, say so too.
        lookup.error = recent_error()
    lookup.tasks = [cached[i] for i in ids if i in cached]
    if lookup.error is None:
        lookup.not_found = [i for i in ids if i not in cached]
    return lookup


def task_store(*, records: list[TaskRecord]) -> list[str]:
    """Insert or update tasks atomically; return the ids that changed.

    A terminal task keeps its state; a lower-ranked (stale) answer is ignored.
    """
    return _store(records)[0]


def _store(records: list[TaskRecord]) -> tuple[list[str], dict[str, Task]]:
    """task_store, also returning every stored task as written (by id).

    At most three writes for any number of tasks: the new ones in one
    insert, the ones whose fields moved in one upsert of just those fields,
    and one UPDATE of the fetch time of all the rest (a due poll of tasks
    that did not move rewrites nothing else).
    """
    now = timezone.now()
    by_id = {record.id: record for record in records}
    changed: list[str] = []
    with transaction.atomic():
        existing = Task.objects.select_for_update().in_bulk(list(by_id))
        new, moved, still = [], [], []
        moved_fields: set[str] = set()
        for task_id, record in by_id.items():
            task = existing.get(task_id)
            if task is None:
                new.append(Task(id=task_id, last_fetched=now, changed_at=now, **_fields(record)))
                changed.append(task_id)
                continue
            task.last_fetched = now
            differs = set()
            if _accepts(task, record):
                before = (task.status, task.progress, task.image_url, task.buttons)
                for name, value in _fields(record, keep=task).items():
                    if getattr(task, name) != value:
                        setattr(task, name, value)
                        differs.add(name)
                if (task.status, task.progress, task.image_url, task.buttons) != before:
                    changed.append(task_id)
                if (task.status, task.progress) != before[:2] or task.changed_at is None:
                    task.changed_at = now
                    differs.add("changed_at")
            if differs:
                moved.append(task)
                moved_fields |= differs
            else:
                still.append(task_id)
        if new:
            Task.objects.bulk_create(new, ignore_conflicts=True)
        if moved:
            first_seen = [task.first_seen for task in moved]  # bulk_create stamps it anew in memory
            Task.objects.bulk_create(
                moved,
                update_conflicts=True,
                unique_fields=["id"],
                update_fields=sorted(moved_fields | {"last_fetched"}),
            )
            for task, seen in zip(moved, first_seen, strict=True):
                task.first_seen = seen
        if still:
            Task.objects.filter(pk__in=still).update(last_fetched=now)
        lineage_link(tasks=[*new, *moved])
    # After the commit, so that a worker on another connection sees the rows.
    stored = {task.pk: task for task in (*new, *existing.values())}
    # One job for the batch's newly finished images: the worker claims them (a
    # claim row and a job an image, written here, were most of a cold lookup's time).
    image_jobs.images_schedule_soon(
        task_ids=[task_id for task_id in changed if stored[task_id].image_sources]
    )
    image_jobs.previews_soon(tasks=[stored[task_id] for task_id in changed if not stored[task_id].is_final])
    if any(not task.is_final for task in stored.values()):
        jobs.follow_soon()
    return changed, stored


def task_poll(*, seen: dict[str, str], failures: int = 0) -> Poll:
    """One tick of a page's poller: what the workers stored since, only what the page lacks.

    It waits on nothing: IDs still unknown get a lookup job if none is in
    flight (lookups.py), unfinished tasks are followed by the workers' ticks.

    `seen` maps each unfinished ID on the page to the card stamp it shows.
    """
    lookup = lookups.task_view(ids=list(seen), wait=0)
    stamps = {task.id: _stamp(task) for task in lookup.tasks}
    changed = [task for task in lookup.tasks if stamps[task.id] != seen[task.id]]
    live = [task for task in lookup.tasks if stamps[task.id] and task.is_live]
    failures = min(failures + 1, 16) if lookup.error else 0
    return Poll(lookup, changed, live, poll_interval(tasks=live, failures=failures), failures)


def _stamp(task: Task) -> str:
    """The card's stamp; "" for a record whose stored data breaks it: its card is
    sent (as "could not be shown", templatetags/cards.py) and no longer followed."""
    try:
        return task.card_stamp
    except Exception:
        logger.exception("task %s: no card stamp", task.pk)
        return ""


def poll_interval(*, tasks: list[Task], failures: int = 0) -> float:
    """Seconds until a poller asks again: doubled per failure, slower when all are stalled."""
    base = settings.MJ_POLL_INTERVAL
    if failures:
        return min(settings.MJ_POLL_MAX_INTERVAL, base * 2**failures)
    if tasks and all(task.stalled_minutes for task in tasks):
        return max(base, settings.MJ_STALL_POLL_SECONDS)
    return base


def task_notify(*, payload) -> dict | None:
    """A task object the relay pushed to our notifyHook: a hint, never the truth.

    Anyone who learnt the hook's URL could push anything, so nothing in the body
    is stored. A push names a task this dashboard follows and is not final: that
    task is asked of the relay again (with every other push of the moment, in the
    workers' next batched call). Other pushes are ignored. None when the body
    names no task. Pushes cannot flood the queue: one about a task already due,
    or whose adoption job is waiting, adds nothing.
    """
    record = relay.normalise_task(payload)
    if record is None:
        return None
    task = Task.objects.filter(pk=record.id).first()
    if task is None and _press_marker(record.state):
        # Maybe the child of a press whose outcome was lost: confirmed by the relay first.
        jobs.press_adopt_soon(task_id=record.id, marker=record.state)
        return {"confirming": [record.id]}
    if task is None or task.is_final:
        return {"ignored": [record.id]}
    jobs.confirm_soon(ids=[record.id])
    return {"confirming": [record.id]}


def _press_marker(state: str) -> bool:
    from tasks_app.buttons import reconcile

    return reconcile.is_marker(state) and Press.objects.filter(marker=state).exists()


def notify_hook_url() -> str:
    """The URL the relay should push updates to, or "" when pushes are not set up."""
    if not (settings.MJ_NOTIFY_URL and settings.MJ_NOTIFY_TOKEN):
        return ""
    return settings.MJ_NOTIFY_URL + reverse("notify_hook", kwargs={"token": settings.MJ_NOTIFY_TOKEN})


def _claim_all(tasks: list[Task]) -> list[Task]:
    """The tasks of this batch this caller may ask the relay about: those nobody else holds.

    The batch is claimed at once, under a short lock in the shared cache, so
    two pages loading together do not each take part of one batch and both
    call the relay. A claim is held for as long as the call may take (a slow
    relay is not asked again by every viewer meanwhile); _release shortens it
    to the window.
    """
    held = {_fresh_key(task.id): task for task in tasks if task.follow_window > 0}
    free = [task for task in tasks if task.follow_window <= 0]
    if not held:
        return free
    with _claim_lock():
        taken = cache.get_many(list(held))
        mine = {key: task for key, task in held.items() if key not in taken}
        if mine:
            # A claim the cache did not keep (it is down) is nobody's: no one asks.
            unkept = cache.set_many(dict.fromkeys(mine, 1), timeout=math.ceil(relay.longest_call()) + 1)
            for key in unkept or ():
                mine.pop(key, None)
    return free + list(mine.values())


@contextmanager
def _claim_lock(wait: float = 1.0):
    """Held for two cache calls; a holder that died frees it within CLAIM_LOCK_SECONDS."""
    token = uuid.uuid4().hex
    give_up = time.monotonic() + wait
    while not cache.add(CLAIM_LOCK, token, timeout=CLAIM_LOCK_SECONDS):
        if cache_down() or time.monotonic() > give_up:
            break  # go on without it: at worst one batch is split, as before the lock
        time.sleep(0.002)
    try:
        yield
    finally:
        if cache.get(CLAIM_LOCK) == token:
            cache.delete(CLAIM_LOCK)


def _release(tasks: list[Task]) -> None:
    by_window: dict[int, list[str]] = {}
    for task in tasks:
        if (window := math.ceil(task.follow_window)) > 0:
            by_window.setdefault(window, []).append(_fresh_key(task.id))
    for window, keys in by_window.items():
        cache.set_many(dict.fromkeys(keys, 1), timeout=window)


def _fresh_key(task_id: str) -> str:
    return f"mjdash:fresh:{task_id}"


def recent_error() -> UpstreamError | None:
    found = cache.get(ERROR_KEY)
    if not found:
        return None
    name, detail = found
    return error_named(name, detail)


def error_named(name: str, detail: str = "") -> UpstreamError:
    """An upstream error of the kind named (an UpstreamError subclass), as kept in the cache or database."""
    kind = getattr(relay, name, None)
    if not (isinstance(kind, type) and issubclass(kind, UpstreamError)):
        kind = UpstreamError
    return kind(detail)


def _accepts(task: Task, record: TaskRecord) -> bool:
    if task.is_final:
        return record.status == task.status
    return relay.status_rank(record.status) >= relay.status_rank(task.status)


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
        "submit_time": record.submit_time,
        "start_time": record.start_time,
        "finish_time": record.finish_time,
        "buttons": [
            {"customId": b.custom_id, "emoji": b.emoji, "label": b.label, "type": b.type, "style": b.style}
            for b in record.buttons
        ],
        "properties": record.properties,
        "payload": record.raw,
    }
    fields["job_hash"] = hashes.own_hash(properties=record.properties, buttons=fields["buttons"])
    fields["parent_hash"] = hashes.hash_in(record.custom_id)
    # The button that started it, as the relay tells (a press made here has said so already).
    started_by = record.custom_id if fields["parent_hash"] else ""
    fields["pressed_custom_id"] = started_by if len(started_by) <= MAX_CUSTOM_ID_LENGTH else ""
    if keep is not None:
        # An answer that lost a value we had (an empty image URL, no buttons)
        # does not erase it.
        kept = (
            "status",
            "image_url",
            "image_urls",
            "buttons",
            "prompt",
            "prompt_en",
            "properties",
            "submit_time",
            "start_time",
            "finish_time",
            "fail_reason",
            "action",
            "job_hash",
            "parent_hash",
        )
        for name in kept:
            if not fields[name] and getattr(keep, name):
                fields[name] = getattr(keep, name)
        if keep.pressed_custom_id:
            fields["pressed_custom_id"] = keep.pressed_custom_id
        _keep_used_marks(fields["buttons"], keep.buttons)
        if fields["status"] == keep.status and fields["progress"] < keep.progress:
            fields["progress"] = keep.progress  # a late answer of the same run
    return fields


def _keep_used_marks(buttons: list[dict], before) -> None:
    """A button pressed here stays marked used (buttons/presses.py:mark_used)
    when an answer fetched before the relay marked it says otherwise."""
    used = {
        b.get("customId")
        for b in (before if isinstance(before, list) else ())
        if isinstance(b, dict) and str(b.get("style")) == str(USED_STYLE)
    }
    for button in buttons:
        if button["customId"] in used:
            button["style"] = USED_STYLE


_FIELD_NAMES = list(_fields(TaskRecord(id="x")))


def task_image_retry(*, task_id: str) -> None:
    """Ask the relay for the task again, then have a worker try its images again.

    An image URL that expired or broke is often answered re-signed by a fresh
    fetch (by a job, waited for as a page waits; an answer later than that is
    the download job's own "expired" path); an upstream failure here still lets
    the download be retried.
    """
    lookup = lookups.task_view(ids=[task_id], force=True)
    archive.image_retry_request(task_id=task_id)
    image_jobs.images_archive_soon(tasks=lookup.tasks)


def tasks_unknown(*, ids: list[str], asked: list[str]) -> list[str]:
    """Which of `ids`, past those just `asked`, the relay does not know. Those the
    cache lacks are asked (in batches, and stored when found); [] when the relay
    could not be asked. One query when the cache holds them all, at any size.
    Asked by a lookup job like a page's (lookups.py): the request waits for none,
    and IDs a job found unknown earlier are reported."""
    have = set(Task.objects.filter(pk__in=ids).values_list("pk", flat=True))
    done = set(asked)
    missing = [task_id for task_id in ids if task_id not in have and task_id not in done]
    if not missing:
        return []
    return lookups.task_view(ids=missing, wait=0).not_found
