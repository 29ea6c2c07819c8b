from django.contrib import admin

from tasks_app.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "action", "status", "progress", "submit_time", "last_fetched"]
    list_filter = ["status", "action"]
    search_fields = ["id", "prompt"]
    readonly_fields = ["first_seen", "last_fetched", "payload"]
