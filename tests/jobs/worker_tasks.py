"""Jobs the worker tests enqueue: one that meets a database outage its first times,
one that holds its worker too long."""

import time
from pathlib import Path

from django.db import OperationalError
from django.tasks import task

from tasks_app import queues


@task(queue_name=queues.DEFAULT)
def fails_while_the_database_is_away(counter: str, outages: int, bug: bool = False) -> int:
    """Counts its runs in the file `counter`; the first `outages` runs meet an
    outage (or, with `bug`, a plain error)."""
    path = Path(counter)
    runs = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(runs))
    if runs <= outages and bug:
        raise ValueError("a bug, not an outage")
    if runs <= outages:
        raise OperationalError("server closed the connection unexpectedly")
    return runs


@task(queue_name=queues.IMAGES)
def holds_its_worker(counter: str, seconds: float) -> str:
    """Writes "started" to `counter`, then holds the worker `seconds` (a stuck download)."""
    Path(counter).write_text("started")
    time.sleep(seconds)
    Path(counter).write_text("finished")
    return "finished"
