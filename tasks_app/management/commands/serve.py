"""Run the dashboard for a person: demo mode when no relay is configured.

With MJ_API_BASE unset it starts the relay simulator on a free loopback port,
points the dashboard at it, makes a demo login and prints it; then it serves
with Django's development server (one process, so the simulator lives in it),
with this host's background workers beside it (one for following and presses,
MJ_IMAGE_WORKERS for images), restarted when one ends, so demo mode needs
nothing more. The port is
--port, else $PORT (`PORT=8001 make run`), else 8000.
"""

import atexit
import os
import secrets
import signal
import sys
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import salted_hmac

from tasks_app.models import Task, TaskImage
from tasks_app.relay import is_final
from tasks_app.workers import supervisor

DEMO_USER = "demo"


class Command(BaseCommand):
    help = "Run the dashboard (demo mode with the built-in simulator when MJ_API_BASE is unset)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default=None, help="default: $PORT, else 8000")
        parser.add_argument(
            "--simulator-port", type=int, default=8765, help="demo relay's port (a free one if taken)"
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start background workers")

    def handle(self, *args, host, port, simulator_port, no_worker, **options):
        port = _port(port or os.environ.get("PORT", "").strip() or "8000")
        self.simulator_port = simulator_port
        if settings.MJ_DEMO_MODE and not settings.MJ_API_BASE:
            self._start_demo()
        if not no_worker and settings.MJ_TASK_BACKEND != "immediate":
            self._start_workers()
        call_command("runserver", f"{host}:{port}", use_reloader=False)

    def _start_workers(self):
        """This host's workers (supervisor.plan: follow and presses apart from
        images), watched from a thread and started again when one ends; all
        stopped with the server."""
        env = {
            **os.environ,
            "MJ_API_BASE": settings.MJ_API_BASE,
            "MJ_API_KEY": settings.MJ_API_KEY,
            "MJ_IMAGE_ALLOW_LOOPBACK": "1" if settings.MJ_IMAGE_ALLOW_LOOPBACK else "0",
        }
        watcher = supervisor.Supervisor(supervisor.plan(), env=env).start()
        threading.Thread(target=watcher.run, name="supervisor", daemon=True).start()
        atexit.register(watcher.stop)
        # runserver ends on Ctrl+C (atexit runs); make a TERM end it the same way.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.stdout.write(f"Background workers started (pids {', '.join(map(str, watcher.pids()))})")

    def _start_demo(self):
        from tasks_app.simulator import Simulator

        # Stable across restarts (the simulator signs its image URLs with it).
        api_key = salted_hmac("mjdash.demo-relay", "api-key", algorithm="sha256").hexdigest()
        simulator = self._simulator(Simulator, api_key)
        settings.MJ_API_BASE = simulator.base_url
        settings.MJ_API_KEY = api_key
        settings.MJ_DEMO_SAMPLE_IDS = list(Simulator.SAMPLE_IDS)
        _forget_restarted_samples(simulator)
        settings.MJ_IMAGE_ALLOW_LOOPBACK = True  # its images are served on loopback too
        password = secrets.token_urlsafe(9)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_USER)
        user.set_password(password)
        user.is_staff = True
        user.save()
        # Staff may press buttons already; the explicit grant survives a demotion.
        user.user_permissions.add(
            Permission.objects.get(codename="press_button", content_type__app_label="tasks_app")
        )
        seeded = _seed_demo_archive(simulator, user)
        self.stdout.write(self.style.SUCCESS(f"Demo upstream (simulator) at {simulator.base_url}"))
        self.stdout.write(f"Demo archive: {seeded} tasks, and a set of the samples")
        self.stdout.write(self.style.SUCCESS(f"Log in as  user: {DEMO_USER}  password: {password}"))
        self.stdout.write("Sample task IDs: " + " ".join(Simulator.SAMPLE_IDS))

    def _simulator(self, simulator_class, api_key):
        # A steady port keeps the demo's cached image URLs reachable across restarts.
        simulator = simulator_class(api_key=api_key, seed=True, port=self.simulator_port)
        # The archive's tasks finished days ago: links signed at their finish would
        # have expired before the first start reads them. The demo relay signs each
        # answer afresh, as many relays do, so every seeded image can be archived.
        simulator.resign_urls = True
        try:
            return simulator.start()
        except OSError:
            simulator.port = 0  # taken: any free one
            return simulator.start()


DEMO_PROMPTS = [
    "a lighthouse on a cliff at dusk, oil painting",
    "a red fox in fresh snow, telephoto",
    "neon-lit noodle stall in the rain, cinematic",
    "a paper kite over green hills, watercolour",
    "castle library with floating candles, concept art",
    "desert caravan under the milky way, long exposure",
    "一只在窗台上晒太阳的橘猫, soft light",
    "isometric cozy cabin in a pine forest, low poly",
]
DEMO_ACTIONS = ["IMAGINE", "IMAGINE", "UPSCALE", "VARIATION"]


def _seed_demo_archive(simulator, user) -> int:
    """Finished tasks with fixed IDs over the past days, read once, so the archive is worth opening;
    and a set of the samples for the demo login's home page."""
    from tasks_app import services
    from tasks_app.sets import services as set_services

    extra = []  # a fresh simulator each start: the IDs are new to it
    for n in range(24):
        task_id = f"17433000000000{n:02d}"
        simulator.add_task(
            task_id,
            prompt=DEMO_PROMPTS[n % len(DEMO_PROMPTS)],
            action=DEMO_ACTIONS[n % len(DEMO_ACTIONS)],
            outcome="FAILURE" if n % 11 == 5 else "SUCCESS",
            fail_reason="banned prompt" if n % 11 == 5 else "",
            queued=0.0,
            run=40.0,
            ago=3600.0 * 5 * (n + 1),
        )
        extra.append(task_id)
    samples = list(simulator.SAMPLE_IDS)
    lookup = services.task_lookup(ids=[*samples, *extra])
    _retry_failed_images([*samples, *extra])
    task_set = set_services.set_save(user=user, ids=samples)
    if not task_set.name:
        set_services.set_rename(task_set=task_set, name="Demo samples")
    return len(lookup.tasks)


def _retry_failed_images(ids: list[str]) -> None:
    """Images of the demo's tasks a former start could not archive (their links
    had expired): asked again with fresh links, and tried again by the worker."""
    from tasks_app import services
    from tasks_app.images import archive
    from tasks_app.images import jobs as image_jobs

    failed = list(
        TaskImage.objects.filter(task_id__in=ids, state=TaskImage.State.FAILED)
        .values_list("task_id", flat=True)
        .distinct()
    )
    if failed:
        lookup = services.task_lookup(ids=failed, force=True)
        for task_id in failed:
            archive.image_retry_request(task_id=task_id)
        image_jobs.images_archive_soon(tasks=lookup.tasks)


def _forget_restarted_samples(simulator) -> None:
    """The simulator starts its sample jobs again on every start (in progress,
    queued, waiting for details). The copies kept from the last run, finished
    since or stalled, would mask them (a stored answer never goes backwards),
    so they are dropped and read afresh by the seeding that follows."""
    restarted = [i for i in simulator.SAMPLE_IDS if not is_final(simulator.payload(i)["status"])]
    Task.objects.filter(pk__in=restarted).delete()


def _port(value: str) -> str:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise CommandError(f"PORT must be a port number from 1 to 65535, got {value!r}")
    return value
