"""What every page needs to know: demo mode and its sample IDs, and whether the
shared cache is down (pages then show tasks as stored, with a banner)."""

from django.conf import settings

from mjdash.cache import cache_down


def dashboard(request):
    context = {"demo_mode": settings.MJ_DEMO_MODE, "cache_down": cache_down()}
    if settings.MJ_DEMO_MODE:
        # Set by demo start-up (manage.py serve); pages never import the simulator.
        context["demo_sample_ids"] = settings.MJ_DEMO_SAMPLE_IDS
    return context
