"""Health endpoints for load balancers and orchestrators, without login.

`/healthz` says the process is alive. `/readyz` says this process
can serve: the database answers a real query, the shared cache stores and
returns a value, a relay is configured, and the background queue moves (its
oldest waiting job is younger than MJ_QUEUE_STALE_SECONDS; the body also
names how many workers ran a job recently). It answers 503 with a JSON body
naming what failed, and never the reason's details (hosts, users), which stay
in the log.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tasks_app import selectors

logger = logging.getLogger(__name__)


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
@never_cache
@require_safe
def readyz(request):
    queue = _queue()
    checks = {
        "database": _database(),
        "cache": _cache(),
        "upstream": _upstream(),
        "queue": queue.pop("check"),
    }
    failing = [name for name, result in checks.items() if result != "ok"]
    body = {"status": "fail" if failing else "ok", "checks": checks, "failing": failing, "queue": queue}
    return JsonResponse(body, status=503 if failing else 200)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            row = cursor.fetchone()
        return "ok" if row and row[0] == 1 else "unexpected answer"
    except Exception as exc:
        logger.warning("readyz: database check failed: %r", exc)
        return f"error: {type(exc).__name__}"


def _cache() -> str:
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        got = cache.get(key)
        cache.delete(key)
        return "ok" if got == value else "value not returned"
    except Exception as exc:
        logger.warning("readyz: cache check failed: %r", exc)
        return f"error: {type(exc).__name__}"


def _queue() -> dict:
    try:
        state = selectors.queue_state(stale_after=timedelta(seconds=settings.MJ_QUEUE_STALE_SECONDS))
    except Exception as exc:
        logger.warning("readyz: queue check failed: %r", exc)
        return {"check": f"error: {type(exc).__name__}"}
    waiting = state.get("oldest_waiting_seconds", 0)
    check = "ok" if waiting <= settings.MJ_QUEUE_STALE_SECONDS else f"oldest job waiting {waiting:.0f} s"
    return {"check": check, **state}


def _upstream() -> str:
    return "ok" if settings.MJ_API_BASE else "MJ_API_BASE is not set"
