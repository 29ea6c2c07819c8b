"""The image archive's background jobs: one image a job, thumbnails first.

- `images_schedule`: a lookup stores a batch of tasks and queues one of these
  for the batch's finished ones, nothing more: it writes no image row (a cold
  lookup of 1,000 grids used to write 5,000 claim rows and 2,500 job rows
  while the person waited). In a worker, it claims their images and queues
  one `image_thumb` each.
- `image_thumb`: one claimed image: download, judge it from its header,
  build its 8 KB thumbnail, mark it ready; the card shows it from then on. A
  bad image fails alone and delays no other.
- `image_renditions`: the large WebP and a grid's quadrants, from the archived
  original, queued at a lower priority than every thumbnail: on the database
  backend (which runs the highest priority first) each waiting thumbnail is
  built before any rendition.

All on the images queue, so that follow ticks and presses never wait behind a
download (tasks_app/queues.py).
"""

from __future__ import annotations

from django.db import transaction
from django.tasks import default_task_backend, task
from django.tasks.signals import task_enqueued
from django.utils.json import normalize_json
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from tasks_app import jobs, queues, services
from tasks_app.images import archive, previews
from tasks_app.models import Task

QUEUE = queues.IMAGES
# Highest first: claiming a batch is quick and unlocks its thumbnails; the
# thumbnail a card shows before the other images'; renditions after all of them.
SCHEDULE, MAIN_THUMB, THUMB, RENDITIONS = 8, 6, 4, 0
TASK_FIELDS = ("id", "status", "image_url", "image_urls", "buttons")  # what claiming reads


@task(queue_name=QUEUE)
def images_schedule(task_ids: list[str]) -> int:
    """Claim the images of these finished tasks that need it; one thumbnail job each."""
    return images_archive_soon(tasks=list(Task.objects.filter(pk__in=task_ids).only(*TASK_FIELDS)))


@task(queue_name=QUEUE)
def image_thumb(task_id: str, index: int, token: str) -> str:
    """Download one claimed image and build its thumbnail; then queue its renditions."""
    outcome = archive.image_archive(archive.Claim(task_id, index, token))
    if outcome == "ok":
        task = Task.objects.only(*TASK_FIELDS).get(pk=task_id)
        if archive.has_renditions(task, index):
            _at(image_renditions, RENDITIONS).enqueue(task_id, index)
    elif outcome == "expired":
        # The link expired or was re-signed: ask the relay for the task again
        # (a fresh answer carries a fresh URL), then try once more.
        services.task_lookup(ids=[task_id], force=True)
        images_archive_soon(tasks=list(Task.objects.filter(pk=task_id).only(*TASK_FIELDS)))
    return outcome


@task(queue_name=QUEUE)
def image_renditions(task_id: str, index: int) -> str:
    """The large rendition and a grid's quadrants of one archived image."""
    return archive.renditions_build(task_id=task_id, index=index)


@task(queue_name=QUEUE)
def preview_fetch(task_id: str) -> str:
    """A running task's progress preview (images/previews.py)."""
    return previews.preview_fetch(task_id=task_id)


def previews_soon(*, tasks: list[Task]) -> int:
    """Queue a preview fetch for each of these running tasks whose relay shows a new one."""
    due = [[task.pk] for task in tasks if previews.preview_due(task)]
    _enqueue_all(preview_fetch, due, THUMB)
    return len(due)


def images_schedule_soon(*, task_ids: list[str]) -> None:
    """Have a worker claim and archive these finished tasks' images: one job row."""
    if task_ids:
        _at(images_schedule, SCHEDULE).enqueue(list(task_ids))
        jobs.follow_soon()  # its ticks take over from a worker that dies mid-download


def images_archive_soon(*, tasks: list[Task]) -> int:
    """Claim the images of these finished tasks that need it, and queue a thumbnail job for each.

    A claim whose job was never queued would hold its image for QUEUED_FOR (10
    minutes). With the queue in the database, claims and job rows are written
    in one transaction: an outage between the two keeps neither. With the queue
    elsewhere (RQ), a job must find its claim committed, so the claims go first
    and are let go at once when queueing fails.
    """
    tasks = [t for t in tasks if t.image_sources]
    if isinstance(image_thumb.get_backend(), DatabaseBackend):
        with transaction.atomic():
            claims = archive.images_claim(tasks=tasks)
            _thumbs_enqueue(tasks, claims)
    else:
        claims = archive.images_claim(tasks=tasks)
        try:
            _thumbs_enqueue(tasks, claims)
        except Exception:
            archive.claims_release(claims)
            raise
    if claims:
        jobs.follow_soon()
    return len(claims)


def _thumbs_enqueue(tasks: list[Task], claims: list[archive.Claim]) -> None:
    main = {t.pk: t.image_sources[0][0] for t in tasks}
    for priority in (MAIN_THUMB, THUMB):
        _enqueue_all(
            image_thumb,
            [list(c) for c in claims if (main[c.task_id] == c.index) == (priority == MAIN_THUMB)],
            priority,
        )


def _at(job, priority: int):
    return job.using(priority=priority) if default_task_backend.supports_priority else job


def _enqueue_all(job, arg_lists: list[list], priority: int) -> None:
    """Queue one job per argument list. On the database backend that is one
    INSERT for all of them (a paste of 100 grids queues 500 jobs: 500 round
    trips to the database would be most of the work)."""
    job = _at(job, priority)
    backend = job.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for args in arg_lists:
            job.enqueue(*args)
        return
    if not arg_lists:
        return
    backend.validate_task(job)
    # What DatabaseBackend.enqueue writes a row at a time (django-tasks-db 0.13,
    # whose pre_save signal bulk_create does not send).
    rows = [
        DBTaskResult(
            id=backend._get_id(),
            args_kwargs=normalize_json({"args": list(args), "kwargs": {}}),
            priority=job.priority,
            task_path=job.module_path,
            queue_name=job.queue_name,
            run_after=job.run_after or get_date_max(),  # its pre_save signal's part
            backend_name=backend.alias,
        )
        for args in arg_lists
    ]
    DBTaskResult.objects.bulk_create(rows)
    for row in rows:
        task_enqueued.send(type(backend), task_result=row.task_result)
