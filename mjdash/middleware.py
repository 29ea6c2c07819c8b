"""A request ID for every request, so one request's log lines can be found
across processes and hosts; and a limit on request bodies (BodySizeLimitMiddleware).

An incoming X-Request-ID (set by a load balancer or proxy) is kept when it looks
like an ID; otherwise a new one is made. It goes into every log record (see
`mjdash.logs`) and back to the client in the X-Request-ID response header. One
line per request is logged at the end, with method, path, status and duration.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware

from mjdash.logs import request_id_var

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

logger = logging.getLogger("mjdash.request")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class BodySizeLimitMiddleware:
    """Refuse a request body over MJ_MAX_BODY_BYTES before anything reads it.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count uploaded files, which
    stream to disk however large they are: an anonymous 500 MB upload to the
    login page was written out whole (the CSRF check reads the form). So the
    declared length decides, before the CSRF middleware or a view reads a byte.
    A chunked body declares none; it is refused too (411), since its size is
    known only once it has been read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _refuse(411, "A request body needs a Content-Length.")
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not (declared.isascii() and declared.isdigit()):
            return _refuse(400, "The Content-Length is not a number.")
        if int(declared) > settings.MJ_MAX_BODY_BYTES:
            limit = settings.MJ_MAX_BODY_BYTES / 1024 / 1024
            return _refuse(413, f"The request body is larger than {limit:.1f} MB.")
        return self.get_response(request)


def _refuse(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    # Set here, as CommonMiddleware (after this one) would: the client knows where
    # the answer ends while the body it declared is still unsent.
    response["Content-Length"] = str(len(response.content))
    return response


class CompressionMiddleware(GZipMiddleware):
    """gzip for what is text and large: pages, htmx fragments, poll answers, exports.

    Django's GZipMiddleware, because it pads every compressed answer with a
    random-length gzip header ("Heal the Breach"), which blurs the length that
    a BREACH attack reads. The page secrets BREACH could target are guarded on
    their own too: the CSRF token is masked afresh in every response, the API
    key and the session never reach a page. Images, ZIPs and static files
    (whitenoise serves those pre-compressed) are left alone: compressing WebP
    or PNG costs CPU and saves nothing.
    """

    TYPES = frozenset({"text/html", "application/json", "text/csv", "text/plain"})

    def process_response(self, request, response):
        kind = response.get("Content-Type", "").partition(";")[0].strip().lower()
        if kind not in self.TYPES:
            return response
        return super().process_response(request, response)
