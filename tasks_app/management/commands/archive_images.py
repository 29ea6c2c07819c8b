"""Archive, here and now, every finished task's images that are not archived yet.

The workers do this on their own as tasks finish; this command is for a
backlog (tasks stored before the workers ran) or a machine without workers.
It claims images exactly as the workers do, so it is safe to run beside them
and to run again: an image is never fetched twice. `--rebuild` also makes
every archived image's thumbnail (at today's MJ_THUMB_SIZE), large rendition and quadrants.
"""

from concurrent.futures import ThreadPoolExecutor, as_completed

from django.core.management.base import BaseCommand
from django.db import connections
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from tqdm import tqdm

from tasks_app.images import archive
from tasks_app.images.errors import ImageRefused
from tasks_app.models import TaskImage


class Command(BaseCommand):
    help = "Download and archive the images of finished tasks that are not archived yet."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=4, help="downloads in flight at once (default 4)")
        parser.add_argument("--retry-failed", action="store_true", help="try failed downloads again")
        parser.add_argument(
            "--rebuild", action="store_true", help="rebuild thumbnails, large renditions and quadrants too"
        )

    def handle(self, *args, workers, retry_failed, rebuild, **options):
        if retry_failed:
            TaskImage.objects.filter(state=TaskImage.State.FAILED).update(retry_at=timezone.now(), tries=0)
        claims = archive.images_claim(tasks=archive.images_due(limit=None))
        counts = {"ok": 0, "failed": 0, "busy": 0}
        with (
            ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="archive") as pool,
            tqdm(total=len(claims), unit="image", disable=None, file=self.stderr) as bar,
        ):
            for future in as_completed(pool.submit(_archive_one, claim) for claim in claims):
                counts[future.result()] += 1
                bar.update(1)
        done = TaskImage.objects.filter(state=TaskImage.State.OK, updated__gte=self.started)
        if rebuild:
            self._rebuild()
        size = sum(done.values_list("bytes", flat=True))
        self.stdout.write(
            f"archived {counts['ok']}, failed {counts['failed']}, busy elsewhere {counts['busy']}, "
            f"{filesizeformat(size)} ({size} bytes)"
        )

    def _rebuild(self) -> None:
        """Every archived image's renditions; one that cannot be read (gone, over
        MJ_IMAGE_MAX_BYTES, not decodable) is named and skipped, the rest go on."""
        rebuilt = skipped = 0
        for image in TaskImage.objects.filter(state=TaskImage.State.OK).select_related("task").iterator():
            try:
                archive.derivatives_build(image=image)
            except (ImageRefused, OSError, ValueError) as exc:  # OSError, ValueError: Pillow
                skipped += 1
                self.stderr.write(f"image {image.task_id}#{image.index}: not rebuilt: {exc}")
            else:
                rebuilt += 1
        self.stdout.write(f"rebuilt {rebuilt}, skipped {skipped}")

    def execute(self, *args, **options):
        self.started = timezone.now()
        return super().execute(*args, **options)


def _archive_one(claim) -> str:
    try:
        outcome = archive.image_archive(claim)
        if outcome == "ok":  # here and now: the large rendition and quadrants too
            archive.renditions_build(task_id=claim.task_id, index=claim.index)
    finally:
        connections.close_all()
    return {"ok": "ok", "not_ours": "busy"}.get(outcome, "failed")
