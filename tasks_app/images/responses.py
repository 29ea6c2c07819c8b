"""The one answer for an archived file, whoever serves it (the signed-thumbnail
middleware or the image views): a redirect to a bucket's signed URL, a 304, or
the bytes, with the cache headers each deserves; a 503 while the bucket does
not answer (its deadline passed, or it failed), which the lightbox retries."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _

from tasks_app.images import storage
from tasks_app.images.services import Served

logger = logging.getLogger(__name__)

FOREVER = "max-age=31536000, immutable"
RETRY_SECONDS = 5


def served_response(
    request: HttpRequest, served: Served, *, cache_control: str, download: bool = False
) -> HttpResponse | None:
    """The response for `served`, or None when its file is gone (the caller says why)."""
    signed = storage.url(
        served.name, filename=served.filename, content_type=served.content_type, download=download
    )
    if signed:
        response = redirect(signed)
        if served.final:  # cached for half the signature's life: never an expired link
            patch_cache_control(response, private=True, max_age=settings.MJ_MEDIA_URL_SECONDS // 2)
        else:  # a stand-in: asked again, so the real rendition replaces it once built
            patch_cache_control(response, private=True, no_cache=True)
        return response
    if served.etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        try:
            body = storage.open(served.name)
        except FileNotFoundError:
            return None
        except storage.StorageUnavailable as exc:
            logger.warning("serving an archived file: %s", exc)
            return _unavailable()
        response = FileResponse(
            body, content_type=served.content_type, as_attachment=download, filename=served.filename
        )
        if "Content-Length" not in response and body.size is not None:
            response["Content-Length"] = body.size  # a bucket's body: its length is known, not seekable
    response["ETag"] = served.etag
    # A stand-in (the original until the large rendition is built) is only revalidated.
    response["Cache-Control"] = cache_control if served.final else "private, no-cache"
    return response


def _unavailable() -> HttpResponse:
    response = HttpResponse(
        _("Image storage is not answering; try again in a moment."),
        content_type="text/plain; charset=utf-8",
        status=503,
    )
    response["Retry-After"] = str(RETRY_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
