"""`manage.py worker`: one background worker that outlives database and Redis outages.

It wraps django-tasks-db's `db_worker` (MJ_TASK_BACKEND=database) or RQ's worker
(`rq`) with reconnecting, backing off and running again what an outage broke
(tasks_app/workers/), and beats: its `Worker` row (host, pid, queues, last
seen, jobs done) is what /readyz and the admin show. `manage.py workers`,
`make run` and `make prod` start and supervise these.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tasks_app import queues
from tasks_app.workers import heartbeat


class Command(BaseCommand):
    help = "Run one background worker on the given queues (default: all), surviving outages."

    def add_arguments(self, parser):
        parser.add_argument(
            "--queues",
            dest="queue_names",
            default=",".join(queues.ALL),
            help=f"comma-separated queue names, in order of preference (default: {','.join(queues.ALL)})",
        )
        parser.add_argument(
            "--interval", type=float, default=0.5, help="seconds between polls of an empty queue (database)"
        )

    def handle(self, *args, queue_names: str, interval: float, **options):
        names = [name.strip() for name in queue_names.split(",") if name.strip()]
        if not names or set(names) - set(queues.ALL):
            raise CommandError(f"--queues takes names from {', '.join(queues.ALL)}; got {queue_names!r}")
        if interval < 0:
            raise CommandError(f"--interval must be 0 or more, got {interval}")
        name = heartbeat.worker_name()
        if settings.MJ_TASK_BACKEND == "database":
            worker = _database_worker(name, names, interval)
        elif settings.MJ_TASK_BACKEND == "rq":
            from tasks_app.workers.rqworker import ResilientRQWorker

            worker = ResilientRQWorker(queues=names, name=name)
        else:
            raise CommandError("MJ_TASK_BACKEND=immediate runs each job where it is enqueued: no worker.")
        beat = heartbeat.Heartbeat(name=name, queues=names, counts=worker.counts).start()
        self.stdout.write(f"worker {name} on queues {','.join(names)} ({settings.MJ_TASK_BACKEND})")
        try:
            worker.run()
        finally:
            beat.stop()


def _database_worker(name: str, names: list[str], interval: float):
    from tasks_app.workers.dbworker import ResilientWorker

    worker = ResilientWorker(
        caps={queues.IMAGES: settings.MJ_IMAGE_JOB_SECONDS},
        queue_names=names,
        interval=interval,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=name,
        excluded_queue_names=[],
    )
    worker.configure_signals()
    return worker
