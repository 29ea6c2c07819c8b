"""System checks of settings that are allowed under DEBUG but worth a word.

In production (DJANGO_DEBUG off) settings.py refuses the same things outright.
"""

from django.conf import settings
from django.core import checks

from mjdash.env import missing_partner


@checks.register()
def notify_hook_configured(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The relay's push hook needs both MJ_NOTIFY_TOKEN and MJ_NOTIFY_URL."""
    problem = missing_partner(MJ_NOTIFY_TOKEN=settings.MJ_NOTIFY_TOKEN, MJ_NOTIFY_URL=settings.MJ_NOTIFY_URL)
    if not problem:
        return []
    return [
        checks.Warning(
            f"{problem}: the notify hook works only with both.",
            hint="Set both (actions then carry <MJ_NOTIFY_URL>/hooks/notify/<MJ_NOTIFY_TOKEN>) or neither.",
            id="mjdash.W001",
        )
    ]
