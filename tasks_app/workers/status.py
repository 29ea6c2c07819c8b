"""What /readyz says about the background engine: the workers seen, the jobs
waiting and the oldest of them, and whether that is a backlog.

A backlog is an alert for the operator, never a reason for a web process to
stop serving pages (mjdash/health.py).
"""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from tasks_app import queues
from tasks_app.workers import heartbeat

WORKERS_LISTED = 50  # /readyz names at most this many (the admin lists them all)


def engine_state() -> dict:
    """The workers seen lately and the queue: waiting jobs, the oldest one's wait, backlog."""
    backend = settings.MJ_TASK_BACKEND
    state: dict = {"backend": backend}
    if backend == "immediate":
        return state
    seen = heartbeat.seen_since().order_by("host", "name")
    state["workers_seen"] = seen.count()
    state["workers"] = [
        {"name": w.name, "host": w.host, "queues": w.queues, "jobs_done": w.jobs_done}
        for w in seen[:WORKERS_LISTED]
    ]
    waiting, oldest = _database_queue() if backend == "database" else _rq_queues()
    state["waiting"] = waiting
    state["oldest_waiting_seconds"] = round(oldest, 1)
    state["backlog"] = oldest > settings.MJ_QUEUE_STALE_SECONDS
    return state


def _database_queue() -> tuple[int, float]:
    from django_tasks_db.models import DBTaskResult, get_date_max

    ready = DBTaskResult.objects.ready()
    # A job enqueued to run at once has run_after "never set" (the year 9999);
    # a deferred one has waited since its run_after.
    times = ready.aggregate(
        now=Min("enqueued_at", filter=Q(run_after=get_date_max())),
        later=Min("run_after", filter=~Q(run_after=get_date_max())),
    )
    oldest = min(filter(None, times.values()), default=None)
    waited = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return ready.count(), max(0.0, waited)


def _rq_queues() -> tuple[int, float]:
    import django_rq

    waiting, oldest = 0, None
    for name in queues.ALL:
        queue = django_rq.get_queue(name)
        waiting += queue.count
        first = queue.get_job_ids(0, 1)
        job = queue.fetch_job(first[0]) if first else None
        if job is not None and job.enqueued_at and (oldest is None or job.enqueued_at < oldest):
            oldest = job.enqueued_at
    if oldest is None:
        return waiting, 0.0
    if timezone.is_naive(oldest):
        oldest = oldest.replace(tzinfo=UTC)  # RQ keeps UTC times without a zone
    return waiting, max(0.0, (timezone.now() - oldest).total_seconds())
