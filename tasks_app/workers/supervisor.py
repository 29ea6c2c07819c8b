"""Starting the workers a host needs, and starting again any that ends.

`make run` (manage.py serve, in a thread) and `make prod` (manage.py workers,
beside gunicorn) run the same plan: one worker for the urgent queues (follow
ticks, presses, the rest) and MJ_IMAGE_WORKERS for images, so a tick or a press
never waits behind a download. A worker that ends, whatever the cause (a crash,
SIGKILL, a job that would not stop), is started again after a back-off that
doubles while it keeps dying soon after starting, each time logged.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from tasks_app import queues

logger = logging.getLogger("tasks_app.workers")

RESTART_FIRST = 1.0  # seconds before a worker that ended is started again...
RESTART_MAX = 60.0  # ...doubling up to this while it keeps ending within...
STEADY_SECONDS = 60.0  # ...this long after its start (then the back-off starts over)
STOP_SECONDS = 15.0  # a stopping worker finishes its job this long, then is killed
# Tells a worker its supervisor's pid: it stops by itself once orphaned (its
# supervisor was killed), rather than run on unsupervised beside a new one.
SUPERVISOR_ENV = "MJDASH_SUPERVISOR_PID"
IMAGES_NICE = 10  # image workers' CPU priority below the web server's and the urgent worker's


def plan() -> list[list[str]]:
    """The `manage.py` arguments of each worker this host runs."""
    if settings.MJ_TASK_BACKEND == "immediate":
        return []
    urgent = ["worker", "--queues", ",".join(queues.URGENT)]
    images = ["worker", "--queues", queues.IMAGES]
    return [urgent] + [images] * settings.MJ_IMAGE_WORKERS


@dataclass
class Slot:
    argv: list[str]
    process: subprocess.Popen | None = None
    started: float = 0.0
    backoff: float = RESTART_FIRST
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    def __init__(self, commands: list[list[str]], *, env: dict[str, str] | None = None):
        self.slots = [Slot(argv=list(argv)) for argv in commands]
        self.env = env
        self._stopping = threading.Event()

    def start(self) -> Supervisor:
        for slot in self.slots:
            self._spawn(slot)
        return self

    def run(self, *, every: float = 0.5) -> None:
        """Watch until stop() is called (from a signal handler or another thread)."""
        while not self._stopping.is_set():
            self.check()
            self._stopping.wait(every)

    def check(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if self._stopping.is_set():
                return
            if slot.restart_at is not None:
                if now >= slot.restart_at:
                    slot.restarts += 1
                    self._spawn(slot)
                continue
            status = slot.process.poll() if slot.process else None
            if status is None:
                continue
            lived = now - slot.started
            slot.backoff = RESTART_FIRST if lived >= STEADY_SECONDS else min(slot.backoff * 2, RESTART_MAX)
            slot.restart_at = now + slot.backoff
            logger.error(
                "supervisor: worker pid %s (%s) ended with status %s after %.0f s; restarting in %.0f s",
                slot.process.pid,
                " ".join(slot.argv[1:]),
                status,
                lived,
                slot.backoff,
            )

    def request_stop(self) -> None:
        """Make run() return (safe from a signal handler)."""
        self._stopping.set()

    def stop(self) -> None:
        """Ask every worker to stop (SIGTERM: it finishes its job), then kill the rest."""
        self._stopping.set()
        running = [slot.process for slot in self.slots if slot.process and slot.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def pids(self) -> list[int]:
        return [slot.process.pid for slot in self.slots if slot.process and slot.process.poll() is None]

    def _spawn(self, slot: Slot) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        # Image work (Pillow) yields the CPU to pages, ticks and presses on a small host.
        nice = IMAGES_NICE if slot.argv[-1] == queues.IMAGES else 0
        env = {**(self.env or os.environ), SUPERVISOR_ENV: str(os.getpid())}
        slot.process = subprocess.Popen(  # noqa: S603 - our own command
            [*manage, *slot.argv], env=env, preexec_fn=(lambda: os.nice(nice)) if nice else None
        )
        slot.started, slot.restart_at = time.monotonic(), None
        logger.info("supervisor: worker pid %s started (%s)", slot.process.pid, " ".join(slot.argv[1:]))
