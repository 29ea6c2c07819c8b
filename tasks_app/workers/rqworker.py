"""One worker on the RQ queues (django-tasks-rq over Redis) that outlives outages.

RQ retries a lost Redis connection while it waits for a job, but its work loop
ends on a Redis timeout or any other unexpected error, and its `rqworker`
command then exits. Here the loop is started again (backing off) until the
worker is asked to stop. A job that failed only because the database or Redis
was away waits for it and runs again (OutageTolerantJob), as on the database
queue. Job time caps are RQ's own: each queue's DEFAULT_TIMEOUT in RQ_QUEUES
(images: MJ_IMAGE_JOB_SECONDS).
"""

from __future__ import annotations

import contextlib
import logging
import time

import django_rq
from django_tasks_rq.backend import Job

from tasks_app.workers.outages import BACKOFF_MAX, FIRST_WAIT, OUTAGE_ERRORS, call_through_outages

logger = logging.getLogger("tasks_app.workers")


class OutageTolerantJob(Job):
    """django-tasks-rq's job, run again when it failed only because the database
    or Redis was away (else RQ would file it as failed for good)."""

    def _execute(self):
        return call_through_outages(super()._execute, label=f"{self.id} ({self.func_name})")


def rq_worker(queues: list[str], **options):
    """An RQ worker on `queues` whose jobs outlive outages (options: RQ's own)."""
    return django_rq.get_worker(*queues, job_class=OutageTolerantJob, **options)


class ResilientRQWorker:
    def __init__(self, *, queues: list[str], name: str):
        self.queues, self.name = queues, name
        self.worker = None
        self.jobs_done = 0
        self.jobs_failed = 0
        self._before = (0, 0)  # counts of the loops that ended

    def counts(self) -> tuple[int, int]:
        """Jobs done and failed; RQ's forked work horses count them in Redis."""
        done, failed = self._before
        worker = self.worker
        if worker is not None:
            counted = worker.connection.hmget(worker.key, "successful_job_count", "failed_job_count")
            done += int(counted[0] or 0)
            failed += int(counted[1] or 0)
        return done, failed

    def run(self) -> None:
        wait = FIRST_WAIT
        attempt = 0
        while True:
            attempt += 1
            try:
                # One name per loop: RQ refuses a second registration of a live name.
                self.worker = rq_worker(self.queues, name=f"{self.name}-{attempt}")
                self.worker.work(with_scheduler=True)
                # SIGTERM/SIGINT: a clean stop (RQ notes the time whether idle or busy).
                if self.worker._stop_requested or self.worker._shutdown_requested_date:
                    return
                reason = "its work loop ended"
            except OUTAGE_ERRORS as exc:
                reason = repr(exc)
            if self.worker is not None:
                with contextlib.suppress(*OUTAGE_ERRORS):
                    self._before = self.counts()
                self.worker = None
            logger.warning("worker %s: %s; starting again in %.1f s", self.name, reason, wait)
            time.sleep(wait)
            wait = min(wait * 2, BACKOFF_MAX)
