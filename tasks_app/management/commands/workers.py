"""`manage.py workers`: this host's background workers, started and kept running.

One worker for the urgent queues (follow ticks, presses) and MJ_IMAGE_WORKERS
for images (tasks_app/workers/supervisor.py); any that ends is started again
with a back-off, logged. `make prod` runs this beside gunicorn; on a host of
workers only, run it under systemd (README, "Background work").
"""

import signal

from django.core.management.base import BaseCommand, CommandError

from tasks_app.workers import supervisor


class Command(BaseCommand):
    help = "Start this host's background workers and restart any that ends."

    def handle(self, *args, **options):
        plan = supervisor.plan()
        if not plan:
            raise CommandError("MJ_TASK_BACKEND=immediate runs each job where it is enqueued: no worker.")
        watcher = supervisor.Supervisor(plan)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: watcher.request_stop())
        watcher.start()
        self.stdout.write(f"workers: {len(plan)} started: " + "; ".join(" ".join(argv[1:]) for argv in plan))
        try:
            watcher.run()
        finally:
            watcher.stop()
