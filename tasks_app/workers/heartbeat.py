"""A worker's heartbeat: its `Worker` row, kept fresh from a thread of its own.

Every BEAT_SECONDS the row says the worker lives (host, pid, queues, jobs done),
so /readyz and the admin can name the workers seen. The beat also keeps the
engine going after an outage or a crash: it makes sure a chain of follow ticks
runs while there is something to follow, and puts back in the queue the jobs
of workers that stopped beating (killed mid-job: their jobs would stay
"running" for ever). Every job is safe to run again (claims, press markers).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.crypto import get_random_string

from tasks_app.models import Worker
from tasks_app.workers.outages import OUTAGE_ERRORS

logger = logging.getLogger("tasks_app.workers")

BEAT_SECONDS = 5.0
# Not seen for this long: presumed dead (a busy worker still beats: the beat is a thread).
DEAD_AFTER = timedelta(seconds=30)
FORGET_AFTER = timedelta(days=1)  # rows of workers gone this long are deleted


def worker_name() -> str:
    """Unique across hosts and restarts; also the worker id its jobs record."""
    host = socket.gethostname()[:32]
    return f"{host}-{os.getpid()}-{get_random_string(8)}"


def seen_since(since: timedelta = DEAD_AFTER):
    """The workers that beat within `since` and did not stop."""
    return Worker.objects.filter(last_seen__gte=timezone.now() - since, stopped__isnull=True)


class Heartbeat:
    def __init__(self, *, name: str, queues: list[str], counts: Callable[[], tuple[int, int]]):
        self.name, self.queues, self.counts = name, queues, counts
        self.started = timezone.now()
        self._stop = threading.Event()
        self._healthy_since = None  # the first beat of the current unbroken run of beats
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        try:
            Worker.objects.filter(last_seen__lt=timezone.now() - FORGET_AFTER).delete()
        except OUTAGE_ERRORS as exc:  # the database is away: the beats go on trying
            logger.warning("worker %s: database away at start: %r", self.name, exc)
            connection.close()
        self._thread.start()
        return self

    def stop(self) -> None:
        """A clean exit: the row says so (best effort: the database may be away)."""
        self._stop.set()
        self._thread.join(timeout=BEAT_SECONDS * 2)
        try:
            done, failed = self.counts()
            Worker.objects.filter(pk=self.name).update(
                stopped=timezone.now(), last_seen=timezone.now(), jobs_done=done, jobs_failed=failed
            )
        except OUTAGE_ERRORS as exc:
            logger.warning("worker %s: could not record its stop: %r", self.name, exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            if _orphaned():
                logger.warning("worker %s: its supervisor is gone; stopping", self.name)
                os.kill(os.getpid(), signal.SIGTERM)  # the worker's own clean stop
                return
            self.beat()
            self._stop.wait(BEAT_SECONDS)
        connection.close()

    def beat(self) -> None:
        try:
            self._record()
            now = timezone.now()
            self._healthy_since = self._healthy_since or now
            self._keep_following()
            # Right after an outage every row looks stale: wait one DEAD_AFTER of
            # beats, so live workers show themselves before anyone is declared dead.
            if now - self._healthy_since >= DEAD_AFTER:
                jobs_of_dead_workers_requeue()
        except OUTAGE_ERRORS as exc:
            if self._healthy_since is not None:
                logger.warning("worker %s: heartbeat failed, database away: %r", self.name, exc)
            self._healthy_since = None
            connection.close()  # a fresh connection at the next beat
        except Exception:  # the beat must outlive anything; the job loop goes on regardless
            logger.exception("worker %s: heartbeat failed", self.name)

    def _record(self) -> None:
        done, failed = self.counts()
        Worker.objects.update_or_create(
            name=self.name,
            defaults={
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
                "queues": ",".join(self.queues)[:255],
                "started": self.started,
                "last_seen": timezone.now(),
                "jobs_done": done,
                "jobs_failed": failed,
            },
        )

    def _keep_following(self) -> None:
        from tasks_app import jobs, selectors

        if selectors.anything_to_follow():
            jobs.follow_soon()


def _orphaned() -> bool:
    supervisor = os.environ.get("MJDASH_SUPERVISOR_PID", "")
    return supervisor.isdigit() and os.getppid() != int(supervisor)


def jobs_of_dead_workers_requeue() -> int:
    """Jobs left "running" by a worker that stopped beating go back to the queue."""
    if settings.MJ_TASK_BACKEND != "database":
        return 0  # RQ keeps its own books: its StartedJobRegistry fails such jobs
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    running = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=timezone.now() - DEAD_AFTER
    )
    candidates = {row.pk: (row.worker_ids or [""])[-1] for row in running.only("id", "worker_ids")[:500]}
    if not candidates:
        return 0
    alive = set(seen_since().filter(pk__in=set(candidates.values())).values_list("pk", flat=True))
    known = set(Worker.objects.filter(pk__in=set(candidates.values())).values_list("pk", flat=True))
    orphans = [pk for pk, worker in candidates.items() if worker in known and worker not in alive]
    requeued = DBTaskResult.objects.filter(pk__in=orphans, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )
    if requeued:
        logger.warning("workers: %d jobs of dead workers put back in the queue", requeued)
    return requeued
