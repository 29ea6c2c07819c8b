"""The image services the views and workers call: archive a finished task's
images once, and serve its thumbnail, original and quadrants from the archive.

Discord's image URLs expire within a day and weigh megabytes, so a finished
task's images are fetched once (images.fetch), kept in default storage, and
served as small WebP thumbnails (images.processing). Across processes an
image is downloaded once: whoever adds the lock in the shared cache does it,
the others wait for its row.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from PIL import Image

from tasks_app.images.errors import ImageMissing, ImagePending, ImageRefused, ImageUnavailable
from tasks_app.images.fetch import download
from tasks_app.images.processing import describe, quadrant_build, thumb_build
from tasks_app.models import Task, TaskImage

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Served:
    """A file of the archive, ready for a view to send."""

    name: str
    content_type: str
    etag: str
    filename: str
    token: str = ""  # the thumbnail URL's ?v=, a capability that needs no login


def thumb_get(*, task_id: str, fetch: bool = True) -> Served:
    """The thumbnail, built (and the original downloaded) on first request.

    Without `fetch` only an archived image is served: anonymous holders of a
    thumbnail's capability URL never start a download. The answer is cached,
    so serving an archived thumbnail costs no database query.
    """
    key = _thumb_key(task_id)
    served = cache.get(key)
    if served is not None:
        return served
    image = _main_image(task_id, fetch=fetch)
    if not image.thumb or max(image.thumb_width, image.thumb_height) != _thumb_side(image):
        image = _locked(image, _thumb_rebuild)
    served = Served(image.thumb, "image/webp", image.etag, f"{task_id}-{image.index}.webp", image.token)
    cache.set(key, served, timeout=86400)
    return served


def original_get(*, task_id: str) -> Served:
    image = _main_image(task_id)
    task = image.task
    slug = slugify(task.prompt_en or task.prompt, allow_unicode=True)[:60].strip("-")
    ext = image.original.rsplit(".", 1)[-1]
    name = f"{task_id}-{slug}.{ext}" if slug else f"{task_id}.{ext}"
    return Served(image.original, image.content_type, f'"{image.sha256[:32]}"', name)


def quadrant_get(*, task_id: str, n: int) -> Served:
    """Quadrant n (1-4, in Midjourney's reading order) of a grid, cropped from the original."""
    image = _main_image(task_id)
    if n not in range(1, 5) or not image.task.is_grid:
        raise ImageMissing(task_id)
    name = _stem(image.task_id, image.index, image.sha256) + f"-q{n}.webp"
    if not default_storage.exists(name):
        _locked(image, lambda row: _quadrant_save(row, n, name), suffix=f"q{n}")
    return Served(name, "image/webp", f'"{image.sha256[:32]}-q{n}"', f"{task_id}-{n}.webp")


def image_retry(*, task_id: str) -> TaskImage:
    """Forget failed downloads of this task and try its main image again now."""
    TaskImage.objects.filter(task_id=task_id, state=TaskImage.State.FAILED).delete()
    cache.delete(_thumb_key(task_id))
    try:
        return _main_image(task_id, wait=settings.MJ_IMAGE_LOCK_WAIT)
    except ImageUnavailable as exc:
        return exc.image


def image_ensure(*, task: Task, index: int, url: str, wait: float = 0.0) -> TaskImage:
    """The archived row of one image, downloading it first when there is none.

    Raises ImagePending when another request holds the download for longer
    than `wait` seconds. A failed download is a row too (state failed), so
    it is not tried again until someone asks for a retry.
    """
    image = TaskImage.objects.filter(task=task, index=index).first()
    if image is not None:
        return image
    placeholder = TaskImage(task=task, index=index, source_url=url)
    return _locked(placeholder, lambda _row: _archive(task=task, index=index, url=url), wait=wait)


def image_prepare(*, task: Task) -> TaskImage | None:
    """Archive a finished task's main image now, if it is not; never raises."""
    sources = task.image_sources
    if not sources:
        return None
    try:
        image = image_ensure(
            task=task, index=sources[0][0], url=sources[0][1], wait=settings.MJ_IMAGE_LOCK_WAIT
        )
    except ImagePending:
        return None
    # The task may carry images prefetched before this archived one: drop them
    # so the page that renders it next reads the row just made.
    getattr(task, "_prefetched_objects_cache", {}).pop("images", None)
    return image


# ---- the archive ------------------------------------------------------------------


def _main_image(task_id: str, wait: float | None = None, fetch: bool = True) -> TaskImage:
    image = TaskImage.objects.select_related("task").filter(task_id=task_id).order_by("index").first()
    if image is None or image.index != 0:
        task = Task.objects.filter(pk=task_id).first()
        sources = task.image_sources if task else []
        if not sources:
            raise ImageMissing(task_id)
        index, url = sources[0]
        if image is None or image.index != index:
            if not fetch:
                raise ImageMissing(task_id)
            wait = settings.MJ_IMAGE_LOCK_WAIT if wait is None else wait
            image = image_ensure(task=task, index=index, url=url, wait=wait)
    if not image.is_ok:
        raise ImageUnavailable(image)
    return image


def _archive(*, task: Task, index: int, url: str) -> TaskImage:
    image = TaskImage.objects.filter(task=task, index=index).first()
    if image is not None:  # someone finished while we took the lock
        return image
    image = TaskImage(task=task, index=index, source_url=url)
    try:
        with download(url) as (body, digest, size):
            thumb, (tw, th), preview = thumb_build(body, size=settings.MJ_THUMB_SIZE)
            fmt, width, height = describe(body)
            stem = _stem(task.pk, index, digest)
            image.original = _save(f"{stem}.{fmt.lower().replace('jpeg', 'jpg')}", File(body))
            image.thumb = _save(f"{stem}-{settings.MJ_THUMB_SIZE}.webp", ContentFile(thumb))
    except ImageRefused as exc:
        logger.info("image %s#%d refused: %s", task.pk, index, exc)
        image.state, image.failure, image.failure_detail = TaskImage.State.FAILED, exc.code, exc.detail
    else:
        image.state, image.bytes, image.sha256 = TaskImage.State.OK, size, digest
        image.width, image.height, image.content_type = width, height, Image.MIME[fmt]
        image.thumb_width, image.thumb_height, image.preview = tw, th, preview
    image.save()
    return image


def _thumb_rebuild(image: TaskImage) -> TaskImage:
    image.refresh_from_db()
    if image.thumb and max(image.thumb_width, image.thumb_height) == _thumb_side(image):
        return image
    with default_storage.open(image.original, "rb") as original:
        thumb, (tw, th), image.preview = thumb_build(original, size=settings.MJ_THUMB_SIZE)
    stem = _stem(image.task_id, image.index, image.sha256)
    image.thumb = _save(f"{stem}-{settings.MJ_THUMB_SIZE}.webp", ContentFile(thumb))
    image.thumb_width, image.thumb_height = tw, th
    image.save(update_fields=["thumb", "thumb_width", "thumb_height", "preview", "updated"])
    return image


def _quadrant_save(image: TaskImage, n: int, name: str) -> TaskImage:
    if default_storage.exists(name):
        return image
    with default_storage.open(image.original, "rb") as original:
        _save(name, ContentFile(quadrant_build(original, n)))
    return image


def _locked(image: TaskImage, work, *, wait: float | None = None, suffix: str = ""):
    """Run work(image) as the only holder of this image's lock, or wait for the holder."""
    key = "mjdash:image-lock:" + hashlib.sha1(f"{image.task_id}|{image.index}|{suffix}".encode()).hexdigest()
    token = uuid.uuid4().hex
    if cache.add(key, token, timeout=int(settings.MJ_IMAGE_TIMEOUT + 60)):
        try:
            return work(image)
        finally:
            if cache.get(key) == token:
                cache.delete(key)
    deadline = time.monotonic() + (settings.MJ_IMAGE_LOCK_WAIT if wait is None else wait)
    while cache.get(key) is not None:
        if time.monotonic() >= deadline:
            raise ImagePending(image.task_id)
        time.sleep(POLL_SECONDS)
    if image.pk is None:
        found = TaskImage.objects.filter(task_id=image.task_id, index=image.index).first()
        if found is None:
            raise ImagePending(image.task_id)
        return found
    image.refresh_from_db()
    return image


def _thumb_key(task_id: str) -> str:
    return "mjdash:thumb:" + hashlib.sha1(task_id.encode()).hexdigest()


def _save(name: str, content) -> str:
    if default_storage.exists(name):  # the same bytes (the name holds their hash)
        return name
    return default_storage.save(name, content)


def _stem(task_id: str, index: int, digest: str) -> str:
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", task_id)[:64]
    return f"images/{safe}/{index}-{digest[:16]}"


def _thumb_side(image: TaskImage) -> int:
    return min(settings.MJ_THUMB_SIZE, max(image.width, image.height))
