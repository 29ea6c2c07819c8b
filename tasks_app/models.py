"""The cache: what the dashboard has learnt about each upstream task."""

import json

from django.db import models
from django.utils.translation import gettext_lazy as _

from tasks_app.upstream import TERMINAL_STATUSES


class TaskQuerySet(models.QuerySet):
    def unfinished(self):
        return self.exclude(status__in=TERMINAL_STATUSES)


class Task(models.Model):
    """One upstream task: every field of the proxy's task object, plus the
    whole payload as received so nothing the upstream sent is lost."""

    id = models.CharField(primary_key=True, max_length=64)
    action = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=40, blank=True, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    prompt = models.TextField(blank=True)
    prompt_en = models.TextField(blank=True)
    description = models.TextField(blank=True)
    fail_reason = models.TextField(blank=True)
    image_url = models.TextField(blank=True)
    image_urls = models.JSONField(default=list, blank=True)
    video_url = models.TextField(blank=True)
    video_urls = models.JSONField(default=list, blank=True)
    submit_time = models.DateTimeField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    finish_time = models.DateTimeField(null=True, blank=True)
    buttons = models.JSONField(default=list, blank=True)
    custom_id = models.TextField(blank=True)
    bot_type = models.CharField(max_length=40, blank=True)
    state = models.TextField(blank=True)
    mask_base64 = models.TextField(blank=True)
    properties = models.JSONField(default=dict, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_fetched = models.DateTimeField(null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-submit_time"]
        verbose_name = _("task")

    def __str__(self):
        return f"{self.id} {self.action} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def status_slug(self) -> str:
        return self.status.lower() or "unknown"

    @property
    def duration(self):
        if self.start_time and self.finish_time:
            return self.finish_time - self.start_time
        return None

    @property
    def payload_json(self) -> str:
        return json.dumps(self.payload, indent=2, ensure_ascii=False)
