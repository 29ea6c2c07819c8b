"""A request ID for every request, so one request's log lines can be found
across processes and hosts.

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
