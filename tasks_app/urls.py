"""Every /tasks/... route -> views/<segment>.py -> buttons/, images/ or services.py."""

from django.urls import path, register_converter

from tasks_app.ids import MAX_ID_LENGTH, MIN_ID_DIGITS
from tasks_app.views import buttons, create, exports, hooks, images, organize, sets, tasks


class TaskIdConverter:
    """A task ID in a URL; anything else is a 404 before any view runs."""

    regex = rf"[0-9]{{{MIN_ID_DIGITS},{MAX_ID_LENGTH}}}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TaskIdConverter, "task_id")

urlpatterns = [
    path("", tasks.home, name="home"),
    path("tasks/", tasks.task_list, name="task_list"),
    path("tasks/<task_id:task_id>/", tasks.task_detail, name="task_detail"),
    path("tasks/poll", tasks.task_poll, name="task_poll"),
    path("tasks/bulk", organize.tasks_bulk, name="tasks_bulk"),
    path("tasks/<task_id:task_id>/star", organize.task_star, name="task_star"),
    path("tasks/<task_id:task_id>/tags", organize.task_tags, name="task_tags"),
    path("s/<slug:slug>/", sets.set_detail, name="set_detail"),
    path("s/<slug:slug>/rename", sets.set_rename, name="set_rename"),
    path("s/<slug:slug>/delete", sets.set_delete, name="set_delete"),
    path("s/<slug:slug>/restore", sets.set_restore, name="set_restore"),
    path("s/<slug:slug>/add", sets.set_add, name="set_add"),
    path("s/<slug:slug>/export.<str:fmt>", exports.set_export, name="set_export"),
    path("s/<slug:slug>/images.zip", exports.set_zip, name="set_zip"),
    path("tasks/export.<str:fmt>", exports.archive_export, name="archive_export"),
    path("tasks/<task_id:task_id>/export.<str:fmt>", exports.task_export, name="task_export"),
    path("tasks/<task_id:task_id>/refresh", tasks.task_refresh, name="task_refresh"),
    path("hooks/notify/<str:token>", hooks.notify_hook, name="notify_hook"),
    path("create/", create.create, name="create"),
    path("create/params", create.create_params, name="create_params"),
    path("create/presses/<int:press_id>", create.create_status, name="create_status"),
    path("create/again/<task_id:task_id>", create.create_again, name="create_again"),
    path("tasks/<task_id:task_id>/action", buttons.task_action, name="task_action"),
    path("tasks/<task_id:task_id>/modal", buttons.task_modal, name="task_modal"),
    path("tasks/<task_id:task_id>/cancel", buttons.task_cancel, name="task_cancel"),
    path(
        "tasks/<task_id:task_id>/presses/<int:press_id>", buttons.task_press_status, name="task_press_status"
    ),
    path("tasks/<task_id:task_id>/thumb.webp", images.task_thumb, name="task_thumb"),
    path("tasks/<task_id:task_id>/image", images.task_image, name="task_image"),
    path("tasks/<task_id:task_id>/large.webp", images.task_large, name="task_large"),
    path("tasks/<task_id:task_id>/preview.webp", images.task_preview, name="task_preview"),
    path("tasks/<task_id:task_id>/image/status", images.task_image_status, name="task_image_status"),
    path("tasks/<task_id:task_id>/image/retry", images.task_image_retry, name="task_image_retry"),
    path("tasks/<task_id:task_id>/quadrant/<int:n>.webp", images.task_quadrant, name="task_quadrant"),
]
