from django.contrib import admin

from tasks_app.models import Press, Task, Worker


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "action", "status", "progress", "submit_time", "last_fetched"]
    list_filter = ["status", "action"]
    search_fields = ["id", "prompt"]
    readonly_fields = ["first_seen", "last_fetched", "payload"]


@admin.register(Press)
class PressAdmin(admin.ModelAdmin):
    """The latest press of each button: who, when, and what the relay answered."""

    list_display = ["task", "custom_id", "user", "created", "state", "code", "child_ids"]
    list_filter = ["state", "code"]
    search_fields = ["task__id", "custom_id", "user__username"]
    raw_id_fields = ["task"]


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    """Background workers as their heartbeats report them (tasks_app/workers/heartbeat.py)."""

    list_display = [
        "name",
        "host",
        "pid",
        "queues",
        "started",
        "last_seen",
        "jobs_done",
        "jobs_failed",
        "stopped",
    ]
    list_filter = ["host", "queues"]
    ordering = ["-last_seen"]
    readonly_fields = [f.name for f in Worker._meta.fields]

    def has_add_permission(self, request):
        return False  # rows are written by the workers themselves
