from django.apps import AppConfig


class MjdashConfig(AppConfig):
    """The project itself as an app, so its system checks run with `manage.py check` and runserver."""

    name = "mjdash"
    verbose_name = "mjdash"

    def ready(self):
        from mjdash import checks  # noqa: F401 - registers the checks
