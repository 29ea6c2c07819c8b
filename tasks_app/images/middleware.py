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

from tasks_app.ids import MAX_ID_LENGTH, MIN_ID_DIGITS
from tasks_app.images import errors
from tasks_app.images import services as images
from tasks_app.images.responses import FOREVER, served_response

PATH = re.compile(rf"^/tasks/([0-9]{{{MIN_ID_DIGITS},{MAX_ID_LENGTH}}})/thumb\.webp$")


class SignedThumbnailMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = PATH.match(request.path_info)
        token = request.GET.get("v", "") if found and request.method in ("GET", "HEAD") else ""
        served = _served(found.group(1), token) if token else None
        if served is None:
            return self.get_response(request)
        response = served_response(request, served, cache_control="public, " + FOREVER)
        return response or self.get_response(request)  # no file: the view says what is missing


def _served(task_id: str, token: str) -> images.Served | None:
    try:
        served = images.thumb_get(task_id=task_id)
    except errors.ImageError:
        return None
    return served if compare_digest(token.encode(), served.token.encode()) else None
