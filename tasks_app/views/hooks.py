"""/hooks/notify/<token>: where the relay pushes task objects (its notifyHook)."""

import json
import secrets

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tasks_app import services


@login_not_required
@csrf_exempt
@require_POST
def notify_hook(request: HttpRequest, token: str) -> HttpResponse:
    """The relay's notifyHook: it POSTs a task object on each change of a task,
    which the dashboard takes as a cue to ask the relay (services.task_notify)."""
    expected = settings.MJ_NOTIFY_TOKEN
    if not expected or not secrets.compare_digest(token.encode(), expected.encode()):
        raise Http404
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError):  # not JSON, or nested past what the parser takes
        return HttpResponseBadRequest("body is not JSON", content_type="text/plain")
    answer = services.task_notify(payload=payload)
    if answer is None:
        return HttpResponseBadRequest("body is not a task object with an id", content_type="text/plain")
    return JsonResponse(answer)
