"""One worker on the database queue (django-tasks-db) that outlives outages.

django-tasks-db's own `db_worker` ends with an uncaught OperationalError when
PostgreSQL restarts, and leaves the job it held "running" for ever. This one:

- waits out a database outage of any length (backing off) and goes on;
- runs again a job that failed only because the database or Redis was away
  (every job is safe to run twice: claims, leases, press markers), up to
  OUTAGE_RERUNS times, and records each outcome once the database is back;
- stops a job that holds it longer than its queue's cap (the images queue:
  MJ_IMAGE_JOB_SECONDS): JobTimeout is raised in the job, and a job that
  swallows it is ended with the process after GRACE_SECONDS (its supervisor
  starts a new one, and the image's claim lapses).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal

from django.tasks import TaskResultStatus
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from tasks_app.workers.outages import OUTAGE_ERRORS, call_through_outages, wait_for_database

logger = logging.getLogger("tasks_app.workers")

GRACE_SECONDS = 10.0
TIMED_OUT_EXIT = 70  # the process status after a job that would not stop


class JobTimeout(Exception):
    """A job held its worker longer than its queue allows."""


class ResilientWorker(Worker):
    def __init__(self, *, caps: dict[str, float], **options):
        super().__init__(**options)
        self.caps = caps
        self.jobs_done = 0
        self.jobs_failed = 0
        self._overdue = False

    def run(self) -> None:
        while self.running:
            try:
                super().run()
                return  # stopped, or --max-tasks reached
            except OUTAGE_ERRORS as exc:  # polling the queue failed: the database is away
                wait_for_database(exc, should_go_on=lambda: self.running)
                self._own_claims_requeue()

    def _own_claims_requeue(self) -> None:
        """The outage may have cut the COMMIT of a job's claim after the database
        took it: that job reads "running" under this worker's name while this
        worker runs nothing, and no dead-worker sweep would free it (the worker
        is alive). Put it back in the queue."""
        try:
            running = DBTaskResult.objects.filter(
                status=TaskResultStatus.RUNNING, backend_name=self.backend_name
            ).only("id", "worker_ids")
            mine = [row.pk for row in running if row.worker_ids and row.worker_ids[-1] == self.worker_id]
            if mine:
                DBTaskResult.objects.filter(pk__in=mine, status=TaskResultStatus.RUNNING).update(
                    status=TaskResultStatus.READY, started_at=None
                )
                logger.warning("worker: %d jobs claimed as the database went away put back", len(mine))
        except OUTAGE_ERRORS:  # away again: the next recovery tries again
            pass

    def counts(self) -> tuple[int, int]:
        return self.jobs_done, self.jobs_failed

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.running_task = True
        try:
            ok, value = self._call(db_task_result)
            self._record(db_task_result, ok, value)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _call(self, row: DBTaskResult) -> tuple[bool, object]:
        try:
            task, result = row.task, row.task_result
            task_started.send(sender=type(task.get_backend()), task_result=result)
        except Exception as exc:  # an unknown task path: recorded as failed
            return False, exc
        args = [TaskContext(task_result=result)] if task.takes_context else []

        def run():
            with self._capped(self.caps.get(row.queue_name)):
                return task.call(*args, *result.args, **result.kwargs)

        try:
            label = f"{row.id} ({row.task_path})"
            return True, call_through_outages(run, label=label, should_go_on=lambda: self.running)
        except BaseException as exc:  # noqa: BLE001 - recorded as the job's failure, as db_worker does
            return False, exc

    def _record(self, row: DBTaskResult, ok: bool, value) -> None:
        """The outcome, once the database takes it (a finished job is never lost to a blip)."""
        while True:
            try:
                if ok:
                    try:
                        row.set_successful(value)
                    except OUTAGE_ERRORS:
                        raise
                    except Exception as exc:  # e.g. a return value that is not JSON
                        ok, value = False, exc
                        continue
                else:
                    row.set_failed(value)
                break
            except OUTAGE_ERRORS as exc:
                if not self.running:  # stopping: the heartbeat's successor requeues the row
                    return
                wait_for_database(exc, should_go_on=lambda: self.running)
        if ok:
            self.jobs_done += 1
        else:
            self.jobs_failed += 1
            logger.warning("job %s (%s) failed: %r", row.id, row.task_path, value)
        with contextlib.suppress(Exception):  # a receiver's error is not the job's
            task_finished.send(sender=type(row.task.get_backend()), task_result=row.task_result)

    @contextlib.contextmanager
    def _capped(self, seconds: float | None):
        if not seconds:
            yield
            return
        self._overdue = False
        previous = signal.signal(signal.SIGALRM, self._on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _on_alarm(self, signum, frame):
        if self._overdue:  # it swallowed JobTimeout: end the process, the supervisor restarts it
            logger.error("worker: a job would not stop after its time ran out; exiting")
            os._exit(TIMED_OUT_EXIT)
        self._overdue = True
        signal.setitimer(signal.ITIMER_REAL, GRACE_SECONDS)
        raise JobTimeout("the job held its worker longer than its queue allows")
