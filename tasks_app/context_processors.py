"""What every page needs to know: demo mode and its sample IDs."""

from django.conf import settings


def dashboard(request):
    context = {"demo_mode": settings.MJ_DEMO_MODE}
    if settings.MJ_DEMO_MODE:
        from tasks_app.simulator import Simulator

        context["demo_sample_ids"] = Simulator.SAMPLE_IDS
    return context
