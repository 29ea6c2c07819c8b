"""What every page needs to know: demo mode and its sample IDs."""

from django.conf import settings


def dashboard(request):
    context = {"demo_mode": settings.MJ_DEMO_MODE}
    if settings.MJ_DEMO_MODE:
        # Set by demo start-up (manage.py serve); pages never import the simulator.
        context["demo_sample_ids"] = settings.MJ_DEMO_SAMPLE_IDS
    return context
