"""Thumbnails with their signed ?v= served before sessions, at about a static file's cost.

A card's <img> asks for /tasks/<id>/thumb.webp?v=<token>, and a page asks for
up to a hundred at once. The token (an HMAC of the task and the image's content,
minted only into pages a logged-in user sees; TaskImage.token) is the
credential, as the relay's own signed CDN links are, so such a request needs no
session, user, CSRF, messages or locale: this middleware, placed before
SessionMiddleware, answers it from the cached `Served` record and the file,
without a database query. Anything else (no token, a wrong one, an image not
archived yet) goes on to the view, which asks for a login and says why.
"""

from __future__ import annotations

import re
from hmac import compare_digest

from django.conf import settings
from django.http import FileResponse, HttpResponseNotModified
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control

from tasks_app.ids import MAX_ID_LENGTH, MIN_ID_DIGITS
from tasks_app.images import errors, storage
from tasks_app.images import services as images

PATH = re.compile(rf"^/tasks/([0-9]{{{MIN_ID_DIGITS},{MAX_ID_LENGTH}}})/thumb\.webp$")
CACHE_CONTROL = "public, max-age=31536000, immutable"


class SignedThumbnailMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = PATH.match(request.path_info)
        token = request.GET.get("v", "") if found and request.method in ("GET", "HEAD") else ""
        served = _served(found.group(1), token) if token else None
        if served is None:
            return self.get_response(request)
        signed = storage.url(served.name, filename=served.filename, content_type=served.content_type)
        if signed:  # a bucket's: the redirect lives half as long as its signature
            response = redirect(signed)
            patch_cache_control(response, private=True, max_age=settings.MJ_MEDIA_URL_SECONDS // 2)
            return response
        if served.etag in request.headers.get("If-None-Match", ""):
            response = HttpResponseNotModified()
        else:
            try:
                body = storage.open(served.name)
            except FileNotFoundError:
                return self.get_response(request)  # the view says what is missing
            response = FileResponse(body, content_type=served.content_type)
            if "Content-Length" not in response and body.size is not None:
                response["Content-Length"] = body.size  # a bucket's body: known, not seekable
        response["ETag"] = served.etag
        response["Cache-Control"] = CACHE_CONTROL if served.final else "private, no-cache"
        return response


def _served(task_id: str, token: str) -> images.Served | None:
    try:
        served = images.thumb_get(task_id=task_id)
    except errors.ImageError:
        return None
    return served if compare_digest(token.encode(), served.token.encode()) else None
