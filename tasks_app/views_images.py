"""Image views: thumbnails, originals and quadrants from the archive.

A failed or refused image never answers a broken file or a 500: the file
routes answer a short text with no-store, and the card asks for its `thumb`
partial, which says why and offers a retry.
"""

from hmac import compare_digest

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tasks_app import images, services
from tasks_app.models import Task

FOREVER = "max-age=31536000, immutable"


@login_not_required
@require_GET
def task_thumb(request, task_id):
    """Its ?v= (an HMAC of the task and its content, on every card) is a
    capability like the relay's signed CDN links: with it a thumbnail is
    served without a session lookup, which is also what makes `public`
    caching sound. Without it, only a logged-in user, who may start the
    download."""
    token = request.GET.get("v", "")
    if token:
        served = _served_or_error(lambda: images.thumb_get(task_id=task_id, fetch=False))
        if isinstance(served, images.Served) and compare_digest(token, served.token):
            return _serve(request, lambda: served, "public, " + FOREVER)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return _serve(request, lambda: images.thumb_get(task_id=task_id), "public, " + FOREVER)


@require_GET
def task_image(request, task_id):
    return _serve(request, lambda: images.original_get(task_id=task_id), "private, " + FOREVER, download=True)


@require_GET
def task_quadrant(request, task_id, n):
    return _serve(request, lambda: images.quadrant_get(task_id=task_id, n=n), "private, " + FOREVER)


@require_GET
def task_image_status(request, task_id):
    """The card's image block as it stands: what a failed <img> swaps in."""
    return _image_block(request, task_id)


@require_POST
def task_image_retry(request, task_id):
    services.task_image_retry(task_id=task_id)
    if request.htmx:
        return _image_block(request, task_id)
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("task_detail", task_id)


def _image_block(request, task_id: str):
    task = Task.objects.for_display().filter(pk=task_id).first()
    if task is None:
        raise Http404(task_id)
    return render(request, "tasks/components.html#thumb", {"task": task})


def _served_or_error(get_served):
    try:
        return get_served()
    except images.ImageError as exc:
        return exc


def _serve(request, get_served, cache_control: str, *, download: bool = False):
    try:
        served = get_served()
    except images.ImageMissing:
        raise Http404(_("This task has no finished image.")) from None
    except images.ImagePending:
        response = _text(_("The image is being downloaded; try again in a moment."), 503)
        response["Retry-After"] = "2"
        return response
    except images.ImageUnavailable as exc:
        return _text(_("image unavailable: %(reason)s") % {"reason": exc.image.reason}, 404)
    if served.etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        try:
            body = default_storage.open(served.name, "rb")
        except FileNotFoundError:
            raise Http404(_("The archived file is missing.")) from None
        response = FileResponse(
            body, content_type=served.content_type, as_attachment=download, filename=served.filename
        )
    response["ETag"] = served.etag
    response["Cache-Control"] = cache_control
    return response


def _text(message: str, status: int) -> HttpResponse:
    response = HttpResponse(message, content_type="text/plain; charset=utf-8", status=status)
    response["Cache-Control"] = "no-store"
    return response
