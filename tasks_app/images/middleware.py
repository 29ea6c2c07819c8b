"""Thumbnails with their signed ?v= served before sessions, at about a static file's cost.

A card's <img> asks for /tasks/<id>/thumb.webp?v=<token>, and a page asks for
up to a hundred at once. The token (an HMAC of the task and the image's content,
minted only into pages a logged-in user sees; TaskImage.token) is the
credential, as the relay's own signed CDN links are, so such a request needs no
session, user, CSRF, messages or locale: this middleware, placed before
SessionMiddleware, answers it from the cached `Served` record and the file,
without a database query. Anything else (no token, a wrong one, an image not
archived yet) goes on to the view, which asks for a login and says why.

A token names one content (it signs the image's hash), so the record a token
was checked against is also kept in this process for RECENT_SECONDS: a page's
hundred thumbnails, and every page after it, skip the shared cache's round trip.
"""

from __future__ import annotations

import re
import time
from hmac import compare_digest

from tasks_app.ids import MAX_ID_LENGTH, MIN_ID_DIGITS
from tasks_app.images import errors
from tasks_app.images import services as images
from tasks_app.images.responses import FOREVER, served_response

PATH = re.compile(rf"^/tasks/([0-9]{{{MIN_ID_DIGITS},{MAX_ID_LENGTH}}})/thumb\.webp$")
RECENT_SECONDS = 60.0  # a rebuilt thumbnail (a new size, the same token) shows within this
RECENT_MAX = 10_000
_recent: dict[tuple[str, str], tuple[float, images.Served]] = {}  # plain: each step is atomic across threads


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
    key, now = (task_id, token), time.monotonic()
    kept = _recent.get(key)
    if kept is not None and now - kept[0] < RECENT_SECONDS:
        return kept[1]
    try:
        served = images.thumb_get(task_id=task_id)
    except errors.ImageError:
        return None
    if not compare_digest(token.encode(), served.token.encode()):
        return None
    if len(_recent) >= RECENT_MAX:
        _recent.clear()  # rarer than a page: simpler than an LRU, and as bounded
    _recent[key] = (now, served)
    return served
