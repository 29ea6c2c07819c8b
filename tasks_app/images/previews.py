"""Progress previews: the picture a running task's relay shows while it works.

While a job runs, relays answer a preview `imageUrl` (a blurred grid at 25%,
50%...). A worker fetches it through the same guarded download as the archive
(size cap, deadline, no internal addresses) and keeps a thumbnail of it on the
task (Task.preview), replaced when the relay's preview moves. It is never an
archived image: the archive reads only a finished task's images
(Task.image_sources), and a finished task's card no longer shows the preview.
"""

from __future__ import annotations

import logging

from django.conf import settings

from tasks_app.images import fetch, processing, storage
from tasks_app.images.errors import ImageRefused
from tasks_app.models import Task
from tasks_app.relay import FINAL_STATUSES

logger = logging.getLogger(__name__)

PREVIEW_FIELDS = ("id", "status", "image_url", "preview", "preview_source")


def preview_due(task: Task) -> bool:
    """A running task whose relay shows a preview other than the one we keep."""
    return bool(not task.is_final and task.image_url and source_of(task.image_url) != task.preview_source)


def source_of(url: str) -> str:
    """The preview's address without its query: a re-signed link is the same picture."""
    return url.partition("?")[0][:1000]


def preview_fetch(*, task_id: str) -> str:
    """Fetch the task's current preview and keep its thumbnail; what happened, in a word."""
    task = Task.objects.filter(pk=task_id).only(*PREVIEW_FIELDS).first()
    if task is None or not preview_due(task):
        return "skipped"
    url = task.image_url
    try:
        with fetch.download(url) as (file, digest, _size):
            data, _dimensions, _tiny = processing.thumb_build(file, size=settings.MJ_THUMB_SIZE)
    except (ImageRefused, OSError, ValueError) as exc:  # OSError, ValueError: Pillow on a broken file
        logger.info("task %s: preview not kept (%s)", task_id, exc)
        return "refused"
    name = storage.save(f"previews/{task_id}-{digest[:16]}.webp", data)
    # Only while it still runs and still shows this preview: a later one or the
    # final image is never overwritten by an older picture.
    kept = (
        Task.objects.filter(pk=task_id, image_url=url)
        .exclude(status__in=FINAL_STATUSES)
        .update(preview=name, preview_source=source_of(url))
    )
    if not kept:
        storage.delete(name)
        return "moved"
    if task.preview and task.preview != name:
        storage.delete(task.preview)
    return "ok"
