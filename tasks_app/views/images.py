"""/tasks/<id>/thumb.webp, /image, /quadrant/<n>.webp: files from the image archive.

A failed or refused image never answers a broken file or a 500: the file
routes answer a short text with no-store, and the card asks for its `thumb`
partial, which says why and offers a retry.

From a bucket (MJ_MEDIA_BUCKET) with MJ_MEDIA_SERVE=redirect, a file route
answers, after the same checks, a redirect to a URL signed for
MJ_MEDIA_URL_SECONDS; the redirect is cached privately for half that, so a
cached one never points at an expired signature.
"""

from hmac import compare_digest

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tasks_app import selectors, services
from tasks_app.images import errors
from tasks_app.images import services as images
from tasks_app.images.responses import FOREVER, served_response
from tasks_app.views.http import HtmxHttpRequest, back


@login_not_required
@require_GET
def task_thumb(request: HttpRequest, task_id: str) -> HttpResponse:
    """Its ?v= (an HMAC of the task and its content, on every card) is a
    capability like the relay's signed CDN links: with it a thumbnail is
    served without a session lookup, which is also what makes `public`
    caching sound. Without it, only a logged-in user."""
    token = request.GET.get("v", "")
    if token:
        served = _served_or_error(lambda: images.thumb_get(task_id=task_id))
        if isinstance(served, images.Served) and compare_digest(token.encode(), served.token.encode()):
            return _serve(request, lambda: served, "public, " + FOREVER)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _serve(request, lambda: images.thumb_get(task_id=task_id), "public, " + FOREVER)


@require_GET
def task_image(request: HttpRequest, task_id: str) -> HttpResponse:
    return _serve(request, lambda: images.original_get(task_id=task_id), "private, " + FOREVER, download=True)


@require_GET
def task_large(request: HttpRequest, task_id: str) -> HttpResponse:
    """The image the detail page and its lightbox show (inline, not a download)."""
    return _serve(request, lambda: images.large_get(task_id=task_id), "private, " + FOREVER)


@require_GET
def task_quadrant(request: HttpRequest, task_id: str, n: int) -> HttpResponse:
    return _serve(request, lambda: images.quadrant_get(task_id=task_id, n=n), "private, " + FOREVER)


@require_GET
def task_preview(request: HttpRequest, task_id: str) -> HttpResponse:
    """A running task's progress preview; the card's ?v= changes with it."""
    return _serve(request, lambda: images.preview_get(task_id=task_id), "private, " + FOREVER)


@require_GET
def task_image_status(request: HttpRequest, task_id: str) -> HttpResponse:
    """The card's image block as it stands: what a failed <img> swaps in."""
    return _image_block(request, task_id)


@require_POST
def task_image_retry(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    services.task_image_retry(task_id=task_id)
    if request.htmx:
        return _image_block(request, task_id)
    return redirect(back(request, task_id))


def _image_block(request: HttpRequest, task_id: str) -> HttpResponse:
    task = selectors.task_for_card(task_id=task_id)
    if task is None:
        raise Http404(task_id)
    return render(request, "tasks/components.html#thumb", {"task": task})


def _served_or_error(get_served):
    try:
        return get_served()
    except errors.ImageError as exc:
        return exc


def _serve(request, get_served, cache_control: str, *, download: bool = False):
    try:
        served = get_served()
    except errors.ImageMissing:
        raise Http404(_("This task has no finished image.")) from None
    except errors.ImagePending:
        response = _text(_("The image is being archived; try again in a moment."), 503)
        response["Retry-After"] = "2"
        return response
    except errors.ImageUnavailable as exc:
        return _text(_("image unavailable: %(reason)s") % {"reason": exc.image.reason}, 404)
    response = served_response(request, served, cache_control=cache_control, download=download)
    if response is None:
        raise Http404(_("The archived file is missing."))
    return response


def _text(message: str, status: int) -> HttpResponse:
    response = HttpResponse(message, content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response
