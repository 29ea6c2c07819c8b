"""Archive every finished task's images that are not archived yet.

Moves the downloads out of page requests: run it from cron or by hand. Safe to
run again (archived images are skipped) and beside the web processes (the same
per-image lock in the shared cache means an image is never fetched twice).
"""

from concurrent.futures import ThreadPoolExecutor, as_completed

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from django.template.defaultfilters import filesizeformat
from tqdm import tqdm

from tasks_app import selectors
from tasks_app.images import errors
from tasks_app.images import services as images


class Command(BaseCommand):
    help = "Download and archive the images of finished tasks that are not archived yet."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=4, help="downloads in flight at once (default 4)")
        parser.add_argument("--retry-failed", action="store_true", help="try failed downloads again")

    def handle(self, *args, workers, retry_failed, **options):
        pending = selectors.images_pending(retry_failed=retry_failed)
        counts = {"ok": 0, "failed": 0, "busy": 0}
        archived_bytes = 0
        with (
            ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="archive") as pool,
            tqdm(total=len(pending), unit="image", disable=None, file=self.stderr) as bar,
        ):
            futures = [
                pool.submit(_archive_one, task, index, url, retry_failed) for task, index, url in pending
            ]
            for future in as_completed(futures):
                state, size = future.result()
                counts[state] += 1
                archived_bytes += size
                bar.update(1)
        self.stdout.write(
            f"archived {counts['ok']}, failed {counts['failed']}, busy elsewhere {counts['busy']}, "
            f"{filesizeformat(archived_bytes)} ({archived_bytes} bytes)"
        )


def _archive_one(task, index, url, retry_failed):
    close_old_connections()
    try:
        if retry_failed:
            task.images.filter(index=index, state="failed").delete()
        image = images.image_ensure(task=task, index=index, url=url, wait=0)
        return ("ok", image.bytes) if image.is_ok else ("failed", 0)
    except errors.ImagePending:
        return "busy", 0
    finally:
        connections.close_all()
