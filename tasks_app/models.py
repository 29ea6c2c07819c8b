"""The cache: what the dashboard has learnt about each upstream task."""

import json
import zlib
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tasks_app.buttons.custom_ids import parse_custom_id
from tasks_app.buttons.quadrants import quadrants
from tasks_app.buttons.rows import button_rows
from tasks_app.images.errors import failure_text
from tasks_app.images.processing import LARGE_SIDE
from tasks_app.relay import FINAL_STATUSES, MAX_ID_LENGTH, MIN_ID_DIGITS, Status, is_final, status_label


class TaskQuerySet(models.QuerySet):
    def unfinished(self):
        return self.exclude(status__in=FINAL_STATUSES)

    def for_display(self):
        """What a card reads, fetched in a fixed number of queries however many cards.

        The JSON columns only the detail page shows (the raw payload, the
        properties) are left in the database: a page of 500 cards would carry
        them all for nothing; the detail page loads them when it reads them.
        Of the images, only the row the card shows (main_image: the imageUrl's
        row 0, else the first of imageUrls, row 1; a grid has five rows), and
        not its columns only the workers read (a re-lookup of 1,000 final
        tasks built 3,000 objects and parsed 14,000 datetimes for them).
        """
        return self.defer("payload", "properties").prefetch_related(card_image_prefetch())


def card_image_prefetch() -> models.Prefetch:
    """The image row a card shows, into `task.card_images` (a plain list: a
    prefetch into the related manager costs a manager and a queryset a task,
    most of the time of a re-lookup of 1,000 final tasks)."""
    rows = (
        TaskImage.objects.filter(models.Q(index=0) | models.Q(index=1, task__image_url=""))
        .defer(*TaskImage.WORKER_FIELDS)
        .order_by()
    )
    return models.Prefetch("images", rows, to_attr="card_images")


class Task(models.Model):
    """One relay task: the fields the dashboard reads, plus the whole payload
    as received, so nothing the relay sent is lost (fields nobody reads, such
    as botType or maskBase64, live only there)."""

    id = models.CharField(primary_key=True, max_length=MAX_ID_LENGTH)
    action = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=40, blank=True, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField(blank=True)
    prompt_en = models.TextField(blank=True)
    description = models.TextField(blank=True)
    fail_reason = models.TextField(blank=True)
    image_url = models.TextField(blank=True)
    image_urls = models.JSONField(default=list, blank=True)
    submit_time = models.DateTimeField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    finish_time = models.DateTimeField(null=True, blank=True)
    buttons = models.JSONField(default=list, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_fetched = models.DateTimeField(null=True, blank=True)
    # Lineage: the task whose button started this one, linked by a press made here
    # or from the relay's hashes (tasks_app/lineage): this task's own job hash, and
    # its parent's, which the button in its customId carries.
    job_hash = models.CharField(max_length=64, blank=True, db_index=True)
    parent_hash = models.CharField(max_length=64, blank=True, db_index=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    pressed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pressed_custom_id = models.TextField(blank=True)
    pressed_label = models.CharField(max_length=80, blank=True)
    # A running task's progress preview: a thumbnail in default storage, and the
    # relay's URL (without its query) it was made from (images/previews.py).
    preview = models.CharField(max_length=255, blank=True)
    preview_source = models.TextField(blank=True)
    queued = models.BooleanField(default=False)  # the relay answered 22: waiting behind others
    # When status or progress last changed: how "stalled" is told apart from "slow".
    changed_at = models.DateTimeField(null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-submit_time"]
        verbose_name = _("task")
        # The archive's order (keyset pages) and its filters; status is indexed on
        # the field, pressed_by as a foreign key, the text search in migration 0008.
        indexes = [
            models.Index(fields=["-first_seen", "-id"], name="task_archive_order"),
            models.Index(fields=["status", "-first_seen", "-id"], name="task_status_archive"),
            models.Index(fields=["action", "-first_seen", "-id"], name="task_action_archive"),
            models.Index(fields=["submit_time"], name="task_submit_time"),
        ]
        permissions = [("press_button", _("Can press task buttons (each press costs money)"))]

    def __str__(self):
        return f"{self.id} {self.action} {self.status}"

    @property
    def url(self) -> str:
        """This task's detail path ("/tasks/<id>/"); its other routes hang below it
        ("action", "refresh", "thumb.webp"), so a card reverses no URL per button."""
        return _task_prefix() + self.id + "/"

    @property
    def is_final(self) -> bool:
        return is_final(self.status)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def status_slug(self) -> str:
        return self.status.lower() or "unknown"

    @property
    def stalled_minutes(self) -> int:
        """Whole minutes an unfinished task has sat unchanged, once past MJ_STALL_MINUTES; else 0."""
        if self.is_final or self.status == Status.MODAL or self.changed_at is None:
            return 0  # a MODAL task waits for a person, not for the relay
        idle = (timezone.now() - self.changed_at).total_seconds() / 60
        return int(idle) if idle > settings.MJ_STALL_MINUTES else 0

    @property
    def follow_window(self) -> float:
        """Seconds a copy of this unfinished task stays fresh: longer while it is
        stalled or waits for a person's details (MODAL)."""
        if self.stalled_minutes or self.status == Status.MODAL:
            return settings.MJ_STALL_POLL_SECONDS
        return settings.MJ_FRESHNESS_SECONDS

    @property
    def is_due(self) -> bool:
        """Time to ask the relay about it again (never, once it is final)."""
        if self.is_final:
            return False
        if self.last_fetched is None:
            return True
        return (timezone.now() - self.last_fetched).total_seconds() >= self.follow_window

    @property
    def card_stamp(self) -> str:
        """A short fingerprint of what a card shows; the poller sends it back so
        only cards whose stamp moved are sent again."""
        seen = (
            self.status,
            self.progress,
            self.image_url.partition("?")[0],  # a re-signed CDN URL is the same picture
            len(self.buttons or ()),
            self.finish_time and self.finish_time.timestamp(),
            self.fail_reason,
            self.stalled_minutes,
            self.image_state,
            self.preview,
        )
        return format(zlib.crc32(repr(seen).encode()), "x")

    @property
    def duration(self):
        if self.start_time and self.finish_time:
            return self.finish_time - self.start_time
        return None

    @property
    def is_reusable(self) -> bool:
        """Its prompt can start a new job from the Create page ("Use this prompt", "Vary")."""
        return self.is_final and bool(self.prompt.strip()) and self.action != "DESCRIBE"

    @property
    def can_run_again(self) -> bool:
        """The same job can be started again from what is kept: its prompt (and reference URLs)."""
        return self.is_reusable and self.action in ("IMAGINE", "SHORTEN")

    @property
    def is_queued(self) -> bool:
        return self.queued and self.status in ("", Status.NOT_START, Status.SUBMITTED)

    @property
    def button_rows(self):
        return button_rows(self.buttons)

    @property
    def payload_json(self) -> str:
        return json.dumps(self.payload, indent=2, ensure_ascii=False)

    # ---- images ----

    @property
    def image_sources(self) -> list[tuple[int, str]]:
        """(index, url) of each result image: 0 is imageUrl, 1.. are imageUrls."""
        if self.status != Status.SUCCESS:
            return []  # progress previews are never fetched
        sources = [(0, self.image_url)] if self.image_url else []
        return sources + [(n, url) for n, url in enumerate(self.image_urls or [], 1) if isinstance(url, str)]

    @property
    def main_image(self) -> "TaskImage | None":
        """The archived row of the image cards show; uses prefetched images when there are."""
        sources = self.image_sources
        if not sources:
            return None
        index = sources[0][0]
        images = getattr(self, "card_images", None)  # for_display's prefetch
        if images is None:
            images = self.images.all()
        return next((image for image in images if image.index == index), None)

    @property
    def image_state(self) -> str:
        """Where the card's image stands: "" (none to show), "waiting", or its row's state."""
        if not self.image_sources:
            return ""
        image = self.main_image
        if image is None:
            return "waiting"
        return "retrying" if image.retry_at else image.state

    @property
    def image_archiving(self) -> bool:
        return self.image_state in ("waiting", "retrying", TaskImage.State.QUEUED, TaskImage.State.RUNNING)

    @property
    def is_live(self) -> bool:
        """Something on its card may still change by itself: the poller keeps asking."""
        return not self.is_final or self.image_archiving

    @property
    def quadrants(self):
        return quadrants(self)

    @property
    def is_grid(self) -> bool:
        """Four images in one (U1-U4 act on its quadrants)."""
        if len(self.image_urls or []) == 4:
            return True
        custom_ids = (parse_custom_id(b.get("customId")) for b in self.buttons or [] if isinstance(b, dict))
        return any(found.op == "upsample" and found.quadrant for found in custom_ids)


@cache
def _task_prefix() -> str:
    """ "/tasks/", reversed once (with the script prefix) rather than per card and button."""
    from django.urls import reverse

    sample = "1" * MIN_ID_DIGITS
    return reverse("task_detail", args=[sample])[: -len(sample + "/")]


class Press(models.Model):
    """The latest press of one button of one task: the row that makes a double
    press (two tabs, two browsers, two app processes) reach the relay once.

    Unique per (task, custom_id): whoever creates or renews it inside the
    window owns the submit; everyone else waits for its outcome and shows it.
    A job started from the Create page has no task: its key
    ("create:<kind>:<user>:<digest of what is sent>") is unique on its own,
    so the same submit pressed twice reaches the relay once too.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        FAILED = "failed"

    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE, related_name="presses")
    custom_id = models.TextField()
    created = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    code = models.IntegerField(null=True)
    child_ids = models.JSONField(default=list)
    modal_id = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    # The tag a submit carries in the relay's `state` field (echoed back in the
    # task it starts), written before the submit leaves: a press with a marker
    # and no outcome may have reached the relay, so it is reconciled, never re-sent.
    marker = models.CharField(max_length=64, blank=True, db_index=True)
    sent = models.DateTimeField(null=True, blank=True)
    settled = models.DateTimeField(null=True, blank=True)  # the double-press window counts from here
    # A create's prompt as the person submitted it: their prompt history.
    prompt = models.TextField(blank=True)
    # A create's request (kind, prompt, cleaned reference images as data URLs),
    # kept only until its job sends it: emptied as the submit leaves.
    request = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "custom_id"], name="one_press_per_button"),
            models.UniqueConstraint(
                fields=["custom_id"], condition=models.Q(task__isnull=True), name="one_press_per_create"
            ),
        ]
        indexes = [models.Index(fields=["user", "-created"], name="press_history")]
        verbose_name = _("press")
        verbose_name_plural = _("presses")  # Django's default would say "presss"

    def __str__(self):
        return f"{self.task_id} {self.custom_id} {self.state}"


class TaskImage(models.Model):
    """One result image of a task, archived in default storage so shared links
    outlive the upstream's expiring URL; a failed download keeps its reason
    and no file.

    The row is also the claim on the download (unique per task and index):
    a worker takes it by a conditional update of `claim` and keeps it by
    renewing `claimed_until`, so an image is downloaded once however many
    workers, processes and hosts run (images/archive.py).
    """

    class State(models.TextChoices):
        QUEUED = "queued"  # a job is on its way
        RUNNING = "running"  # a worker is downloading it
        OK = "ok"
        FAILED = "failed"  # with retry_at: tried again then; without: until someone asks

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField(default=0)  # 0: imageUrl, n: imageUrls[n-1]
    source_url = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices)
    failure = models.CharField(max_length=20, blank=True)  # a key of images.errors.FAILURES
    failure_detail = models.CharField(max_length=200, blank=True)
    original = models.CharField(max_length=255, blank=True)  # storage name
    bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    content_type = models.CharField(max_length=40, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    thumb = models.CharField(max_length=255, blank=True)  # storage name
    thumb_width = models.PositiveIntegerField(default=0)
    thumb_height = models.PositiveIntegerField(default=0)
    preview = models.TextField(blank=True)  # a tiny blurred WebP as a data: URI
    # What else is stored, so that serving never asks the storage (a bucket: a
    # request per question): the large rendition's name, and whether the four
    # quadrant crops of a grid are stored (named by images.archive.quadrant_name).
    large = models.CharField(max_length=255, blank=True)
    quadrants = models.BooleanField(default=False)
    claim = models.CharField(max_length=32, blank=True)  # the token of the job that may work on it
    claimed_until = models.DateTimeField(null=True, blank=True)  # then another job may take it over
    tries = models.PositiveSmallIntegerField(default=0)  # downloads that failed for a passing reason
    retry_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    # Written and read by the archive's workers only: never shown, so not loaded for cards.
    WORKER_FIELDS = ("source_url", "claim", "claimed_until", "created", "updated")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "index"], name="one_image_per_index")]
        indexes = [models.Index(fields=["state", "claimed_until"], name="image_claims")]

    def __str__(self):
        return f"{self.task_id}#{self.index} {self.state}"

    @property
    def is_ok(self) -> bool:
        return self.state == self.State.OK

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:32]}-{self.thumb_width}"'

    @property
    def token(self) -> str:
        """The thumbnail URL's ?v=: signed with SECRET_KEY over the task and its
        content, so only the server can mint it (it is shown only to users who
        are logged in) and it changes when the image does."""
        value = f"{self.task_id}:{self.index}:{self.sha256}"
        return salted_hmac("mjdash.thumb", value, algorithm="sha256").hexdigest()[:32]

    @property
    def reason(self) -> str:
        return failure_text(self.failure, self.failure_detail)

    @property
    def large_size(self) -> tuple[int, int]:
        """(width, height) of the large rendition (/tasks/<id>/large.webp)."""
        scale = min(1.0, LARGE_SIDE / max(self.width, self.height, 1))
        return round(self.width * scale), round(self.height * scale)


class Lease(models.Model):
    """A named claim on a piece of background work, held until `until`.

    "Only one at a time" across workers, processes and hosts, kept by the
    database (jobs.py: one chain of follow ticks).
    """

    name = models.CharField(primary_key=True, max_length=100)
    token = models.CharField(max_length=32)
    until = models.DateTimeField()

    def __str__(self):
        return f"{self.name} until {self.until:%H:%M:%S}"


class TaskSet(models.Model):
    """A saved list of task IDs, in order, behind a short unguessable link (/s/<slug>/).

    Only the IDs are kept: nothing else from the pasted text. The same IDs
    pasted again by the same person reuse the set (ids_hash).
    """

    slug = models.CharField(max_length=16, unique=True)
    ids = models.JSONField(default=list)
    ids_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=100, blank=True)
    # A readable name made from its first prompt and the date when no one named it (sets/naming.py).
    auto_name = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="task_sets"
    )
    created = models.DateTimeField(default=timezone.now)
    # A deleted set is kept MJ_SET_PURGE_DAYS, so a misclick can be undone and
    # teammates' links say "deleted, restore" instead of dying.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("task set")
        indexes = [
            models.Index(fields=["created_by", "-created"], name="taskset_recent"),
            models.Index(fields=["created_by", "ids_hash"], name="taskset_reuse"),
            models.Index(fields=["deleted_at"], name="taskset_deleted"),
        ]

    def __str__(self):
        return self.title

    @property
    def title(self) -> str:
        if self.name or self.auto_name:
            return self.name or self.auto_name
        count = len(self.ids or ())
        day = timezone.localdate(self.created) if self.created else ""
        return ngettext("%(n)d task · %(day)s", "%(n)d tasks · %(day)s", count) % {"n": count, "day": day}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def purge_at(self):
        """When a deleted set is gone for good."""
        if self.deleted_at is None:
            return None
        return self.deleted_at + timedelta(days=settings.MJ_SET_PURGE_DAYS)


class SetVisit(models.Model):
    """A person opened a set (theirs or a teammate's): it is among their recent sets on the home page."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task_set = models.ForeignKey(TaskSet, on_delete=models.CASCADE, related_name="visits")
    visited = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "task_set"], name="one_visit_per_set")]
        indexes = [models.Index(fields=["user", "-visited"], name="setvisit_recent")]

    def __str__(self):
        return f"{self.user_id} {self.task_set_id} {self.visited:%Y-%m-%d}"


class Star(models.Model):
    """One person's favourite: a star is personal (each teammate has their own)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="stars")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "task"], name="one_star_per_task")]

    def __str__(self):
        return f"{self.user_id} ★ {self.task_id}"


class Tag(models.Model):
    """A label the whole team shares; `key` (its name, case-folded) keeps "Cat" and "cat" one tag."""

    name = models.CharField(max_length=40)
    key = models.CharField(max_length=40, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]

    def __str__(self):
        return self.name


class TaskTag(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="task_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="task_tags")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "tag"], name="one_tag_per_task")]
        # The archive's tag filter reads by tag; a card's tags by task (the unique index).
        indexes = [models.Index(fields=["tag", "task"], name="tasktag_by_tag")]

    def __str__(self):
        return f"{self.task_id} #{self.tag_id}"


class Worker(models.Model):
    """A background worker process, as its heartbeat last reported it (workers/heartbeat.py).

    /readyz names the workers seen lately and the admin lists them all; a worker
    not seen for a while is presumed dead and the jobs it held are run again.
    """

    name = models.CharField(primary_key=True, max_length=64)  # also its worker id on its jobs
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=255)
    started = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    jobs_done = models.PositiveIntegerField(default=0)
    jobs_failed = models.PositiveIntegerField(default=0)
    stopped = models.DateTimeField(null=True, blank=True)  # a clean exit

    def __str__(self):
        return f"{self.host}:{self.pid} ({self.queues})"
