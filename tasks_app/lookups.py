"""What a page shows about a list of IDs, without waiting on the relay.

A page about IDs the dashboard has never stored takes a lookup lease on each
(a `Lease` row "lookup:<id>", so the lookup of one ID is in flight once across
viewers, processes and hosts), queues one `tasks_lookup` job for the IDs it
took, and waits at most MJ_LOOKUP_WAIT_SECONDS for the answers. What has not
arrived by then is a "looking up…" card that the page's poller fills in. Only
MJ_LOOKUP_WAITERS requests of a process wait at once; the others answer at
once, so a relay that trickles never holds every thread (health checks and
pages about stored tasks go on). Stored tasks are shown as stored: the
workers' follow ticks keep the unfinished ones fresh.

With the immediate backend every job runs where it is queued, and no tick
runs later: there a page looks the IDs up itself (services.task_lookup).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db.models import Q
from django.tasks import default_task_backend
from django.utils import timezone

from tasks_app import jobs, relay, services
from tasks_app.models import Lease, Task

LEASE = "lookup:"  # + a task ID
MISSING = "missing"  # the token of a lease whose ID the relay does not know...
MISSING_SECONDS = 60  # ...said for this long; then it is asked again
QUEUE_ALLOWANCE = 30  # seconds a queued lookup may wait for a worker before another viewer queues one
STALE_LEASES = timedelta(hours=1)
RELAY_ERROR = "relay-error"  # a Lease row while a worker's lookup failed lately (relay_note)
WAIT_STEP = 0.05


def task_view(*, ids: list[str], wait: float | None = None, force: bool = False) -> services.Lookup:
    """The tasks of these IDs in order as stored, and which are still being looked up.

    `wait`: how long to wait for a lookup this page started or shares
    (MJ_LOOKUP_WAIT_SECONDS by default; the poller waits for nothing).
    `force` asks the relay again about stored tasks too (a "refresh").
    """
    if not default_task_backend.supports_defer:
        return services.task_lookup(ids=ids, force=force)
    stored = Task.objects.for_display().in_bulk(ids)
    to_ask = list(ids) if force else [i for i in ids if i not in stored]
    if to_ask:
        jobs.lookup_soon(ids=to_ask, force=force)
        _wait(to_ask, settings.MJ_LOOKUP_WAIT_SECONDS if wait is None else wait)
        stored.update(Task.objects.for_display().in_bulk(to_ask))
    if any(not task.is_final for task in stored.values()):
        jobs.follow_soon()  # a chain of ticks follows them (started again if it died)
    missing, looking = _states([i for i in ids if i not in stored])
    lookup = services.Lookup(
        tasks=[stored[i] for i in ids if i in stored], not_found=missing, pending=looking, order=ids
    )
    if looking or any(not task.is_final for task in lookup.tasks):
        lookup.error = services.recent_error() or relay_error()  # a worker's lookup or tick failed lately
    return lookup


def leases_take(*, ids: list[str], token: str) -> list[str]:
    """The IDs whose lookup this token now holds: none held, or its holder ran out of time.

    Three queries for any number of IDs; two takers of one ID never both win
    (an insert that conflicts does nothing; a lapsed row goes to one updater).
    """
    now = timezone.now()
    until = now + timedelta(seconds=relay.longest_call() + QUEUE_ALLOWANCE)
    names = [LEASE + task_id for task_id in ids]
    Lease.objects.bulk_create(
        [Lease(name=name, token=token, until=until) for name in names], ignore_conflicts=True
    )
    Lease.objects.filter(name__in=names, until__lt=now).update(token=token, until=until)
    held = set(Lease.objects.filter(name__in=names, token=token).values_list("name", flat=True))
    return [task_id for task_id in ids if LEASE + task_id in held]


def lookup_run(*, ids: list[str], token: str, force: bool = False) -> dict:
    """The job's part: ask the relay about the IDs whose lease this token still holds.

    A lookup that waited in the queue past its lease may have been taken over
    by a newer one; then it asks nothing, so one ID has one call in flight.
    """
    names = [LEASE + task_id for task_id in ids]
    held = Lease.objects.filter(name__in=names, token=token)
    # Held for as long as the call may take: nobody takes it over meanwhile.
    held.update(until=timezone.now() + timedelta(seconds=relay.longest_call() + 5))
    mine = sorted(name.removeprefix(LEASE) for name in held.values_list("name", flat=True))
    if not mine:
        return {"asked": 0}
    missing: list[str] = []
    try:
        lookup = services.task_lookup(ids=mine, force=force)
        missing = lookup.not_found
        relay_note(lookup.error)
    finally:
        # Stored, failed or crashed: the lease goes (a failed lookup is asked
        # again by the next page or poll); "not known" is remembered a while.
        if missing:
            held.filter(name__in=[LEASE + task_id for task_id in missing]).update(
                token=MISSING, until=timezone.now() + timedelta(seconds=MISSING_SECONDS)
            )
        held.delete()
        Lease.objects.filter(name__startswith=LEASE, until__lt=timezone.now() - STALE_LEASES).delete()
    return {"asked": len(mine), "not_found": len(missing), "error": bool(lookup.error)}


def relay_note(error) -> None:
    """What a worker's lookup found of the relay, for every web process to show.

    Kept in the database: the cache may be each process's own (local memory,
    one `make run` server beside its worker). Its kind only; the detail stays in the log.
    """
    if error is None:
        if Lease.objects.filter(name=RELAY_ERROR).exists():
            Lease.objects.filter(name=RELAY_ERROR).delete()
        return
    until = timezone.now() + timedelta(seconds=settings.MJ_POLL_MAX_INTERVAL)
    Lease.objects.update_or_create(
        name=RELAY_ERROR, defaults={"token": type(error).__name__[:32], "until": until}
    )


def relay_error():
    """The failure a worker's lookup met lately, or None."""
    kind = (
        Lease.objects.filter(name=RELAY_ERROR, until__gt=timezone.now())
        .values_list("token", flat=True)
        .first()
    )
    return services.error_named(kind) if kind else None


def _wait(ids: list[str], seconds: float) -> None:
    """Until no lookup of these IDs is in flight, for at most `seconds`, if a waiter's place is free."""
    if seconds <= 0:
        return
    places = _waiters(settings.MJ_LOOKUP_WAITERS)
    if not places.acquire(blocking=False):
        return
    try:
        names = [LEASE + task_id for task_id in ids]
        deadline = time.monotonic() + seconds
        while _in_flight(names).exists() and time.monotonic() < deadline:
            time.sleep(WAIT_STEP)
    finally:
        places.release()


def _states(ids: list[str]) -> tuple[list[str], list[str]]:
    """(not known to the relay, still being looked up) of IDs not stored."""
    if not ids:
        return [], []
    names = [LEASE + task_id for task_id in ids]
    missing = set(
        Lease.objects.filter(name__in=names, token=MISSING, until__gt=timezone.now()).values_list(
            "name", flat=True
        )
    )
    return [i for i in ids if LEASE + i in missing], [i for i in ids if LEASE + i not in missing]


def _in_flight(names: list[str]):
    return Lease.objects.filter(Q(name__in=names) & Q(until__gt=timezone.now()) & ~Q(token=MISSING))


@lru_cache(maxsize=4)
def _waiters(count: int) -> threading.BoundedSemaphore:
    """The places of this process's requests that may wait for a lookup (one set per setting)."""
    return threading.BoundedSemaphore(count)
