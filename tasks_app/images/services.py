"""What the views serve from the image archive: thumbnails, originals, quadrants.

Nothing here downloads or builds an image: that is the workers' job
(images/archive.py, run by jobs.py). A request for an image that is not
archived yet answers at once that it is on its way. Nothing here asks the
storage either: the TaskImage row records what is stored (a bucket would
charge a request per question).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.core.cache import cache
from django.utils.text import slugify

from tasks_app.images.archive import quadrant_name, thumb_cache_key
from tasks_app.images.errors import ImageMissing, ImagePending, ImageUnavailable
from tasks_app.models import Task, TaskImage


@dataclass(frozen=True, slots=True)
class Served:
    """A file of the archive, ready for a view to send."""

    name: str
    content_type: str
    etag: str
    filename: str
    token: str = ""  # the thumbnail URL's ?v=, a capability that needs no login
    final: bool = True  # False: a stand-in that a worker will replace under the same URL


def thumb_get(*, task_id: str) -> Served:
    """The archived thumbnail. Cached, so serving one costs no database query."""
    key = thumb_cache_key(task_id)
    served = cache.get(key)
    if served is not None:
        return served
    image = _main_image(task_id)
    served = Served(image.thumb, "image/webp", image.etag, f"{task_id}-{image.index}.webp", image.token)
    cache.set(key, served, timeout=86400)
    return served


def original_get(*, task_id: str, image: TaskImage | None = None) -> Served:
    image = image or _main_image(task_id)
    task = image.task
    slug = slugify(task.prompt_en or task.prompt, allow_unicode=True)[:60].strip("-")
    ext = image.original.rsplit(".", 1)[-1]
    name = f"{task_id}-{slug}.{ext}" if slug else f"{task_id}.{ext}"
    return Served(image.original, image.content_type, f'"{image.sha256[:32]}"', name)


def large_get(*, task_id: str) -> Served:
    """The large rendition the worker built beside the thumbnail; for an image
    archived before there was one (until `archive_images --rebuild`), the
    original itself, shown inline. Never built here: that is the workers' job."""
    image = _main_image(task_id)
    if image.large:
        return Served(image.large, "image/webp", f'"{image.sha256[:32]}-large"', f"{task_id}-large.webp")
    return replace(original_get(task_id=task_id, image=image), final=False)


def quadrant_get(*, task_id: str, n: int) -> Served:
    """Quadrant n (1-4, in Midjourney's reading order) of a grid, cropped by the worker."""
    image = _main_image(task_id)
    if n not in range(1, 5) or not image.task.is_grid:
        raise ImageMissing(task_id)
    if not image.quadrants:
        raise ImagePending(task_id)
    return Served(quadrant_name(image, n), "image/webp", f'"{image.sha256[:32]}-q{n}"', f"{task_id}-{n}.webp")


def preview_get(*, task_id: str) -> Served:
    """A running task's progress preview (images/previews.py); its name changes with it."""
    name = Task.objects.filter(pk=task_id).values_list("preview", flat=True).first()
    if not name:
        raise ImageMissing(task_id)
    return Served(name, "image/webp", f'"{name.rsplit("-", 1)[-1]}"', f"{task_id}-preview.webp")


def _main_image(task_id: str) -> TaskImage:
    """The archived row of the image a card shows; why not, when it is not archived."""
    task = Task.objects.for_display().filter(pk=task_id).first()
    if task is None or not task.image_sources:
        raise ImageMissing(task_id)
    image = task.main_image
    if image is None or task.image_archiving:
        raise ImagePending(task_id)
    if not image.is_ok:
        raise ImageUnavailable(image)
    image.task = task
    return image
