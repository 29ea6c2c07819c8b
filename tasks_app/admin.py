from django.contrib import admin

from tasks_app.models import Press, Task


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
