from django.urls import path, register_converter

from tasks_app import views, views_buttons, views_images
from tasks_app.ids import MAX_ID_LENGTH, MIN_ID_DIGITS


class TaskIdConverter:
    """A task ID in a URL; anything else is a 404 before any view runs."""

    regex = rf"[0-9]{{{MIN_ID_DIGITS},{MAX_ID_LENGTH}}}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TaskIdConverter, "task_id")

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<task_id:task_id>/", views.task_detail, name="task_detail"),
    path("tasks/poll", views.task_poll, name="task_poll"),
    path("tasks/<task_id:task_id>/refresh", views.task_refresh, name="task_refresh"),
    path("hooks/notify/<str:token>", views.notify_hook, name="notify_hook"),
    path("tasks/<task_id:task_id>/action", views_buttons.task_action, name="task_action"),
    path("tasks/<task_id:task_id>/modal", views_buttons.task_modal, name="task_modal"),
    path("tasks/<task_id:task_id>/cancel", views_buttons.task_cancel, name="task_cancel"),
    path("tasks/<task_id:task_id>/thumb.webp", views_images.task_thumb, name="task_thumb"),
    path("tasks/<task_id:task_id>/image", views_images.task_image, name="task_image"),
    path("tasks/<task_id:task_id>/image/status", views_images.task_image_status, name="task_image_status"),
    path("tasks/<task_id:task_id>/image/retry", views_images.task_image_retry, name="task_image_retry"),
    path("tasks/<task_id:task_id>/quadrant/<int:n>.webp", views_images.task_quadrant, name="task_quadrant"),
    path("healthz", views.healthz, name="healthz"),
]
