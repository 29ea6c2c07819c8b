"""What a passing outage of PostgreSQL or Redis looks like to a worker, and waiting one out."""

from __future__ import annotations

import logging
import time

import redis.exceptions
from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger("tasks_app.workers")

# A lost or refused connection (psycopg, SQLite's "database is locked", redis-py).
OUTAGE_ERRORS = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
FIRST_WAIT = 0.5  # seconds; doubles up to BACKOFF_MAX while the outage lasts
# A job that failed only because the database or Redis was away runs again, this
# many times at most (every job is safe to run twice: claims, leases, press markers).
OUTAGE_RERUNS = 5
BACKOFF_MAX = 5.0


def database_answers() -> bool:
    """A real round trip on a fresh connection (a dead one is dropped first)."""
    try:
        connections.close_all()
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except OUTAGE_ERRORS:
        return False


def wait_for_database(reason: BaseException | str, *, should_go_on=lambda: True) -> None:
    """Back off until the database answers again, however long that takes."""
    wait, since = FIRST_WAIT, time.monotonic()
    logger.warning("worker: database or cache unavailable (%s); waiting for it", _name(reason))
    while should_go_on() and not database_answers():
        time.sleep(wait)
        wait = min(wait * 2, BACKOFF_MAX)
        logger.warning("worker: database still unavailable after %.0f s", time.monotonic() - since)
    logger.warning("worker: database back after %.1f s; going on", time.monotonic() - since)


def call_through_outages(call, *, label: str, should_go_on=lambda: True):
    """call(), run again (up to OUTAGE_RERUNS times) once the database answers
    when it failed only because the database or Redis was away; the last
    outage, or one met while stopping, is raised."""
    for attempt in range(OUTAGE_RERUNS + 1):
        try:
            return call()
        except OUTAGE_ERRORS as exc:
            if attempt == OUTAGE_RERUNS or not should_go_on():
                raise
            logger.warning("job %s hit an outage; it runs again", label)
            wait_for_database(exc, should_go_on=should_go_on)
    raise AssertionError("unreachable")  # pragma: no cover


def _name(reason: BaseException | str) -> str:
    return reason if isinstance(reason, str) else f"{type(reason).__name__}: {str(reason)[:200]}"
