"""The workers' side of the image archive: claim an image, download it, judge
it from its header, build its thumbnail, record the outcome; then, later and at
a lower priority (images/jobs.py), its large rendition and a grid's quadrants.

Exactly one download per image across workers, processes and hosts: the
`TaskImage` row (unique per task and index) is the claim. Scheduling creates
or takes over the row with a fresh token; the job that carries the token
moves it to RUNNING by a conditional update and renews `claimed_until` while
it works; its outcome is written only while it still holds the token. A
worker killed mid-download stops renewing, and after MJ_CLAIM_SECONDS the
next scheduling pass takes the image over, at most MJ_IMAGE_RETRIES times
(an image that kills its worker every time must not be fetched for ever).
Files are written under names that hold the content's hash, each whole or
not at all (images/storage.py), and the row names them only once they are
stored, so nothing half-written is ever served, on the file system or in a
bucket. The row also records the renditions stored (`large`, `quadrants`):
serving and rebuilding never ask the storage what exists.

A refused image (too many pixels, too long and thin, not a picture, cut
short) fails for good, with its reason on the card; only a person's "Retry"
fetches it again. Passing failures (timeouts, network, 5xx) are tried again
MJ_IMAGE_RETRIES times.
"""

from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import BooleanField, Case, ExpressionWrapper, F, PositiveSmallIntegerField, Q, When
from django.utils import timezone
from PIL import Image

from tasks_app.images import storage
from tasks_app.images.errors import ImageRefused
from tasks_app.images.fetch import download
from tasks_app.images.processing import LARGE_SIDE, describe, large_build, quadrants_build, thumb_build
from tasks_app.models import Task, TaskImage
from tasks_app.relay import Status

logger = logging.getLogger(__name__)

QUEUED_FOR = timedelta(minutes=10)  # a queued job not started by then is presumed lost
# Failures that may pass: the host was slow, unreachable or failing; the worker
# hit an error of its own (a full disk) or died while it worked.
TRANSIENT = frozenset({"timeout", "network", "dns", "error"})
# Answers of an image host to a link that expired or was re-signed.
EXPIRED = frozenset({"HTTP 403", "HTTP 404", "HTTP 410"})


class Claim(NamedTuple):
    """What one archive job carries: which image, and the token that makes it the owner."""

    task_id: str
    index: int
    token: str


def images_claim(*, tasks: list[Task]) -> list[Claim]:
    """Claim every image of these finished tasks that is not archived, queued or
    downloading, for one job each. Two queries for any number of tasks, plus
    one per image taken over."""
    now = timezone.now()
    wanted = {(task.pk, index): url for task in tasks for index, url in task.image_sources}
    if not wanted:
        return []
    _give_up_dead(now)
    token = uuid.uuid4().hex
    TaskImage.objects.bulk_create(
        [
            TaskImage(
                task_id=task_id,
                index=index,
                source_url=url,
                state=TaskImage.State.QUEUED,
                claim=token,
                claimed_until=now + QUEUED_FOR,
            )
            for (task_id, index), url in wanted.items()
        ],
        ignore_conflicts=True,
    )
    rows = (
        TaskImage.objects.filter(task_id__in={task_id for task_id, _ in wanted})
        .annotate(grabbable=ExpressionWrapper(_up_for_grabs(now), output_field=BooleanField()))
        .values_list("pk", "task_id", "index", "claim", "state", "grabbable")
    )
    claims = []
    # Main images first: they are what the cards show.
    for pk, task_id, index, claim, state, grabbable in sorted(rows, key=lambda row: row[2]):
        if (task_id, index) not in wanted:
            continue
        if claim == token and state == TaskImage.State.QUEUED:
            claims.append(Claim(task_id, index, token))
        elif grabbable:
            taken = _take_over(pk, wanted[(task_id, index)], now)
            if taken:
                claims.append(Claim(task_id, index, taken))
    return claims


def claims_release(claims: list[Claim]) -> None:
    """Let go of claims whose jobs could not be queued: the next pass may take them."""
    for claim in claims:
        TaskImage.objects.filter(
            task_id=claim.task_id, index=claim.index, claim=claim.token, state=TaskImage.State.QUEUED
        ).update(claimed_until=timezone.now())


def images_due(*, limit: int | None = 200) -> list[Task]:
    """Finished tasks whose images need a job: never claimed, a claim whose worker
    died, or a passing failure now due again."""
    task_ids = set(
        TaskImage.objects.filter(_up_for_grabs(timezone.now())).values_list("task_id", flat=True)[:limit]
    )
    unclaimed = (
        Task.objects.filter(status=Status.SUCCESS, images__isnull=True)
        .exclude(image_url="", image_urls=[])
        .values_list("pk", flat=True)[:limit]
    )
    task_ids.update(unclaimed)
    return list(Task.objects.filter(pk__in=task_ids))


def image_retry_request(*, task_id: str) -> None:
    """A person asked to try a failed image again: make it due now."""
    TaskImage.objects.filter(task_id=task_id, state=TaskImage.State.FAILED).update(
        retry_at=timezone.now(), tries=0
    )


def image_archive(claim: Claim) -> str:
    """Run one claimed download and build its thumbnail; return what happened
    ("ok", "failed", "retry", "expired", or "not_ours" when another job owns
    the image now). The image is ready, and its card shows it, from here: its
    large rendition and quadrants come later (renditions_build)."""
    started = TaskImage.objects.filter(
        task_id=claim.task_id, index=claim.index, claim=claim.token, state=TaskImage.State.QUEUED
    ).update(state=TaskImage.State.RUNNING, claimed_until=_claim_end())
    if not started:
        return "not_ours"
    image = TaskImage.objects.select_related("task").get(task_id=claim.task_id, index=claim.index)
    url = dict(image.task.image_sources).get(claim.index, image.source_url)
    with _claim_kept(image.pk, claim.token):
        try:
            fields = _download_and_thumb(image.task, claim.index, url)
        except ImageRefused as exc:
            logger.info("image %s#%d refused: %s", claim.task_id, claim.index, exc)
            return _record_failure(image, claim.token, exc, url)
        except Exception as exc:
            # Not the picture's fault as far as we know (a full disk, a bug): a passing
            # failure, tried again a bounded number of times, never a job that dies
            # and leaves its claim to be taken over for ever.
            logger.exception("image %s#%d: archiving failed", claim.task_id, claim.index)
            return _record_failure(image, claim.token, ImageRefused("error", type(exc).__name__), url)
    fields.update(state=TaskImage.State.OK, source_url=url, failure="", failure_detail="", retry_at=None)
    return "ok" if _record(image.pk, claim.token, fields) else "not_ours"


def has_renditions(task: Task, index: int) -> bool:
    """Whether this image gets more than a thumbnail: the main image a large
    rendition, a grid's picture (row 0) its four quadrants."""
    return _is_main(task, index) or (index == 0 and task.is_grid)


def renditions_build(*, task_id: str, index: int) -> str:
    """The large rendition and a grid's quadrants of an archived image, from its
    original: "ok", "missing" (not archived) or "refused" (its pixels could not
    be decoded: the detail page then shows the original itself)."""
    image = (
        TaskImage.objects.select_related("task")
        .filter(task_id=task_id, index=index, state=TaskImage.State.OK)
        .first()
    )
    if image is None or not image.original:
        return "missing"
    try:
        _renditions(image)
    except ImageRefused as exc:
        logger.warning("image %s#%d: no renditions: %s", task_id, index, exc)
        return "refused"
    return "ok"


def derivatives_build(*, image: TaskImage) -> None:
    """The thumbnail at the configured size, the large rendition and a grid's
    quadrants, from the archived original (`archive_images --rebuild`)."""
    thumb_side = min(settings.MJ_THUMB_SIZE, max(image.width, image.height))
    _build_missing(image, thumb=not image.thumb or max(image.thumb_width, image.thumb_height) != thumb_side)


def _renditions(image: TaskImage) -> None:
    _build_missing(image, thumb=False)


def _build_missing(image: TaskImage, *, thumb: bool) -> None:
    """Build what the row does not record as stored, from one read of the original
    (none when nothing is missing), one write per file; then record it, unless
    the row has meanwhile been archived again from other bytes."""
    wants_large = _is_main(image.task, image.index) and not image.large
    wants_quadrants = image.index == 0 and image.task.is_grid and not image.quadrants
    if not (thumb or wants_large or wants_quadrants):
        return
    fields: dict = {}
    with storage.open(image.original, seekable=True, max_bytes=settings.MJ_IMAGE_MAX_BYTES) as original:
        if thumb:
            data, (tw, th), preview = thumb_build(original, size=settings.MJ_THUMB_SIZE)
            name = f"{stem(image.task_id, image.index, image.sha256)}-{settings.MJ_THUMB_SIZE}.webp"
            fields.update(thumb=storage.save(name, data), thumb_width=tw, thumb_height=th, preview=preview)
        if wants_large:
            fields["large"] = storage.save(large_name(image), large_build(original, size=LARGE_SIDE))
        if wants_quadrants:
            for n, data in enumerate(quadrants_build(original), 1):
                storage.save(quadrant_name(image, n), data)
            fields["quadrants"] = True
    TaskImage.objects.filter(pk=image.pk, sha256=image.sha256).update(**fields)
    if thumb:  # what serving remembers of the old one (its name holds the old size)
        cache.delete(thumb_cache_key(image.task_id))


def thumb_cache_key(task_id: str) -> str:
    """The shared cache's record of how to serve a task's thumbnail (services.thumb_get)."""
    # v2: Served gained `final`; a pickled v1 copy would come back without it.
    return f"mjdash:thumb:v2:{task_id}"


def stem(task_id: str, index: int, digest: str) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in task_id)[:64]
    return f"images/{safe}/{index}-{digest[:16]}"


def quadrant_name(image: TaskImage, n: int) -> str:
    return f"{stem(image.task_id, image.index, image.sha256)}-q{n}.webp"


def large_name(image: TaskImage) -> str:
    return f"{stem(image.task_id, image.index, image.sha256)}-large.webp"


# ---- helpers -------------------------------------------------------------------------


def _up_for_grabs(now) -> Q:
    """Images a new job may take: a claim whose worker died or whose job was lost,
    or a passing failure now due again."""
    active = [TaskImage.State.QUEUED, TaskImage.State.RUNNING]
    return Q(state__in=active, claimed_until__lt=now) | Q(state=TaskImage.State.FAILED, retry_at__lte=now)


def _take_over(pk: int, url: str, now) -> str:
    """Hand the image to a new job if it is still up for grabs; its token, or "".
    Taking over from a worker that died while it ran counts as a try."""
    token = uuid.uuid4().hex
    taken = TaskImage.objects.filter(_up_for_grabs(now), pk=pk).update(
        state=TaskImage.State.QUEUED,
        claim=token,
        claimed_until=now + QUEUED_FOR,
        source_url=url,
        tries=Case(
            When(state=TaskImage.State.RUNNING, then=F("tries") + 1),
            default=F("tries"),
            output_field=PositiveSmallIntegerField(),
        ),
    )
    return token if taken else ""


def _give_up_dead(now) -> None:
    """An image whose workers died while running it MJ_IMAGE_RETRIES times fails for
    good: whatever kills them (the kernel's OOM killer) would kill the next one."""
    TaskImage.objects.filter(
        state=TaskImage.State.RUNNING, claimed_until__lt=now, tries__gte=settings.MJ_IMAGE_RETRIES
    ).update(
        state=TaskImage.State.FAILED,
        failure="error",
        failure_detail="the worker stopped while processing it",
        retry_at=None,
        claimed_until=None,
        updated=now,
    )


def _claim_end():
    return timezone.now() + timedelta(seconds=settings.MJ_CLAIM_SECONDS)


@contextmanager
def _claim_kept(pk: int, token: str):
    """Renew the claim while the body runs, so that only a dead worker loses it."""
    stop = threading.Event()

    def renew():
        try:
            while not stop.wait(settings.MJ_CLAIM_SECONDS / 3):
                try:
                    TaskImage.objects.filter(pk=pk, claim=token).update(claimed_until=_claim_end())
                except DatabaseError as exc:
                    # "database is locked" (SQLite under load), a dropped connection: the
                    # claim still has two beats in hand, so try again at the next one, on
                    # a fresh connection. A keeper that gave up would let the claim lapse
                    # mid-download and a second worker fetch the image again.
                    logger.warning("claim keeper of image %s: renewal failed, trying again: %s", pk, exc)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    keeper = threading.Thread(target=renew, name=f"claim-{pk}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join(timeout=10)


def _download_and_thumb(task: Task, index: int, url: str) -> dict:
    with download(url) as (body, digest, size):
        fmt, width, height = describe(body)  # the header alone: refused here before any decoding
        thumb, (tw, th), preview = thumb_build(body, size=settings.MJ_THUMB_SIZE)
        name = stem(task.pk, index, digest)
        original = storage.save(f"{name}.{fmt.lower().replace('jpeg', 'jpg')}", body)
        thumb_name = storage.save(f"{name}-{settings.MJ_THUMB_SIZE}.webp", thumb)
    return {
        "original": original,
        "bytes": size,
        "sha256": digest,
        "width": width,
        "height": height,
        "content_type": Image.MIME[fmt],
        "thumb": thumb_name,
        "thumb_width": tw,
        "thumb_height": th,
        "preview": preview,
        "large": "",  # the renditions of these bytes come later (renditions_build)
        "quadrants": False,
    }


def _is_main(task: Task, index: int) -> bool:
    """The image a card and the detail page show: the only one with a large rendition
    (the lightbox shows a grid's quadrants from their own crops)."""
    sources = task.image_sources
    return bool(sources) and sources[0][0] == index


def _record_failure(image: TaskImage, token: str, exc: ImageRefused, url: str) -> str:
    fields = {"failure": exc.code, "failure_detail": exc.detail, "source_url": url}
    if exc.code == "http" and exc.detail in EXPIRED and image.tries == 0:
        # Ask the relay for a fresh link once (jobs.py), then try again.
        fields.update(state=TaskImage.State.FAILED, tries=1, retry_at=timezone.now())
        outcome = "expired"
    elif (
        exc.code in TRANSIENT or exc.detail.startswith("HTTP 5")
    ) and image.tries < settings.MJ_IMAGE_RETRIES:
        delay = settings.MJ_IMAGE_RETRY_BACKOFF * 2**image.tries
        fields.update(
            state=TaskImage.State.FAILED,
            tries=image.tries + 1,
            retry_at=timezone.now() + timedelta(seconds=delay),
        )
        outcome = "retry"
    else:
        fields.update(state=TaskImage.State.FAILED, retry_at=None)
        outcome = "failed"
    return outcome if _record(image.pk, token, fields) else "not_ours"


def _record(pk: int, token: str, fields: dict) -> bool:
    """Write the outcome only while this job still holds the claim."""
    fields["claimed_until"] = None
    return bool(TaskImage.objects.filter(pk=pk, claim=token).update(updated=timezone.now(), **fields))
