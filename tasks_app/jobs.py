"""Background work through Django's Tasks framework (django.tasks).

These kinds of job, run by workers (`manage.py worker`, on the database queue or
the RQ backend) so that no page waits on them and nothing waits for a page:

- `follow_tick`: one tick of following every unfinished task the dashboard
  knows, in one batched `list-by-condition` over all that are due; it also
  sweeps images that need a job. While anything may still change, each tick
  schedules the next. One chain of ticks at a time, kept by a `Lease` row.
- images/jobs.py: one image a job (thumbnail first, renditions later).
- `tasks_lookup`: IDs a page has never seen, looked up once however many
  viewers ask (lookups.py); the page waits about a second for it.
- `press_send`: one claimed button press (or MODAL form), sent to the relay;
  the page that pressed waits about a second for it, then asks again.
- `create_send`: the same for a job started on the Create page.

services.py enqueues these after storing what the relay said, and these jobs
call services to ask the relay: the two modules use each other at call time.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.tasks import default_task_backend, task
from django.utils import timezone

from tasks_app import lookups, queues, relay, selectors, services
from tasks_app.buttons import presses, reconcile
from tasks_app.create import sending
from tasks_app.images import archive
from tasks_app.images import jobs as image_jobs
from tasks_app.models import Lease, Task

logger = logging.getLogger(__name__)

FOLLOW_LEASE = "follow"
ADOPT_LEASE = "adopt:"  # + a task ID: its adoption job is waiting
FOLLOW_ALIVE_KEY = "mjdash:follow-alive"
URGENT = 10


@task(queue_name=queues.FOLLOW)
def follow_tick(token: str) -> dict:
    """Ask the relay about every due unfinished task at once; schedule what is needed next."""
    due = selectors.tasks_to_follow()
    if due:
        lookups.relay_note(services.task_lookup(ids=due).error)  # for pages in other processes
    for press_id in reconcile.overdue_ids():  # their senders died mid-submit
        reconcile.reconcile_press(press_id)
    scheduled = image_jobs.images_archive_soon(tasks=archive.images_due())
    if selectors.anything_to_follow():
        _follow_next(token)
    else:
        Lease.objects.filter(name=FOLLOW_LEASE, token=token).update(until=timezone.now())
    return {"asked": len(due), "images": scheduled}


@task(queue_name=queues.FOLLOW)  # a page waits: with the ticks, never behind images
def tasks_lookup(ids: list[str], token: str, force: bool = False) -> dict:
    """Ask the relay about IDs a page showed as "looking up…" (lookups.py), once per ID."""
    return lookups.lookup_run(ids=ids, token=token, force=force)


@task(queue_name=queues.PRESS)
def press_send(press_id: int, prompt: str | None = None, mask: str = "") -> str:
    """Send one claimed press to the relay (paid); its new tasks are then followed."""
    outcome = presses.send(press_id=press_id, prompt=prompt, mask=mask)
    if outcome == "unsure":
        press_reconcile_later(press_id)
    follow_soon()
    return outcome


@task(queue_name=queues.PRESS)
def create_send(press_id: int) -> str:
    """Send one claimed create (imagine, blend, describe, shorten) to the relay (paid)."""
    outcome = sending.create_send(press_id)
    if outcome == "unsure":
        press_reconcile_later(press_id)
    follow_soon()
    return outcome


@task(queue_name=queues.PRESS)
def press_reconcile(press_id: int) -> str:
    """Settle a press whose submit may have reached the relay, from what the relay says."""
    return reconcile.reconcile_press(press_id)


@task(queue_name=queues.PRESS)
def press_adopt(task_id: str, marker: str) -> str:
    """A task reported with a press's marker: the press's child, if the relay confirms."""
    return reconcile.adopt(task_id=task_id, marker=marker)


def lookup_soon(*, ids: list[str], force: bool = False) -> list[str]:
    """Queue one lookup of those IDs nobody is looking up already; return them."""
    token = uuid.uuid4().hex
    mine = lookups.leases_take(ids=ids, token=token)
    if mine:
        urgent(tasks_lookup).enqueue(mine, token, force)
    return mine


def press_adopt_soon(*, task_id: str, marker: str) -> bool:
    """Queue the adoption of a task pushed with a press's marker, unless one is
    already waiting: a relay (or anyone with the hook's URL) pushing the same
    task again and again adds no job. The lease runs out by itself, so a later
    push may try again after a relay that could not confirm."""
    now = timezone.now()
    until = now + timedelta(seconds=relay.longest_call() + 30)
    if not _lease_take(f"{ADOPT_LEASE}{task_id}", uuid.uuid4().hex, until=until, now=now):
        return False
    urgent(press_adopt).enqueue(task_id, marker)
    return True


def press_reconcile_later(press_id: int) -> None:
    """Reconcile once the submit can no longer be on its way (its deadline passed)."""
    if default_task_backend.supports_defer:
        run_after = timezone.now() + timedelta(seconds=relay.longest_call() + 1)
        urgent(press_reconcile).using(run_after=run_after).enqueue(press_id)


def confirm_soon(*, ids: list[str]) -> None:
    """Ask the relay about these tasks soon: in the workers' next batched tick, or
    here and now where no worker can be scheduled (the immediate backend)."""
    if not default_task_backend.supports_defer:
        services.task_lookup(ids=ids, force=True)
        return
    # Read first: a flood of pushes about a task already due writes nothing (on
    # SQLite even an UPDATE that matches no row takes the database's write lock).
    not_due = Task.objects.filter(pk__in=ids, last_fetched__isnull=False).unfinished()
    if not_due.exists():
        not_due.update(last_fetched=None)
    follow_soon()


def follow_soon() -> None:
    """Make sure a chain of follow ticks is running (there is unfinished work).

    A no-op with a backend that cannot defer a job (the immediate one): then
    pages keep tasks fresh themselves, as they always can.
    """
    backend = default_task_backend
    if not backend.supports_defer or cache.get(FOLLOW_ALIVE_KEY):
        return
    now = timezone.now()
    token = uuid.uuid4().hex
    if _lease_take(FOLLOW_LEASE, token, until=now + _follow_lease(), now=now):
        _enqueue_tick(token, now + timedelta(seconds=settings.MJ_FOLLOW_SECONDS))
    cache.set(FOLLOW_ALIVE_KEY, 1, timeout=max(1, int(settings.MJ_FOLLOW_SECONDS)))


# ---- the chain ----------------------------------------------------------------------


def _follow_lease() -> timedelta:
    """How long a scheduled tick may take to start and run before it is presumed lost."""
    return timedelta(seconds=settings.MJ_FOLLOW_SECONDS * 3 + relay.longest_call() + 30)


def _follow_next(token: str) -> None:
    due = timezone.now() + timedelta(seconds=settings.MJ_FOLLOW_SECONDS)
    kept = Lease.objects.filter(name=FOLLOW_LEASE, token=token).update(until=due + _follow_lease())
    if kept:  # else a newer chain took over from this one, which was presumed lost
        _enqueue_tick(token, due)


def _enqueue_tick(token: str, run_after) -> None:
    urgent(follow_tick).using(run_after=run_after).enqueue(token)


def urgent(job):
    """The job ahead of image downloads, where the backend orders by priority:
    a person waits for a press, and every page for the ticks."""
    return job.using(priority=URGENT) if default_task_backend.supports_priority else job


def _lease_take(name: str, token: str, *, until, now) -> bool:
    """Take the named lease if nobody holds it, or its holder's time ran out."""
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, token=token, until=until)
        return True
    except IntegrityError:
        return bool(Lease.objects.filter(name=name, until__lt=now).update(token=token, until=until))
