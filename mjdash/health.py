"""Health endpoints for load balancers and orchestrators, without login.

Which probe means what:

- `/healthz` is liveness: the process answers (200, "ok"). Restart the process
  when it fails; it asks nothing of the database, the cache or the relay.
- `/readyz` is readiness: this web process can serve pages. It answers 503 only
  when it cannot: the database fails a real query, or no relay is configured.
  Everything else is reported in the body and leaves it 200, because pages
  still serve: the shared cache (pages render from the database with a banner),
  where archived images live (`media`: MEDIA_ROOT writable, or the bucket
  answering; a bucket is asked at most once per MEDIA_CHECK_SECONDS per
  process, so probes cost it nothing to speak of) and the background engine
  (`engine`: the workers seen, the jobs waiting, the oldest one's wait,
  `backlog` when that exceeds MJ_QUEUE_STALE_SECONDS). A backlog, a cache or a
  media outage is an alert for the operator (`warnings`), never a
  reason for a load balancer to take every web host out; a web-only host stays
  200. Reasons' details (hosts, users) stay in the log.
"""

from __future__ import annotations

import logging
import os
import time
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tasks_app.images import storage
from tasks_app.workers import status

logger = logging.getLogger(__name__)

MEDIA_CHECK_SECONDS = 30.0
MEDIA_CHECK_DEADLINE = 2.0  # a probe answers fast, whatever the bucket does
_media_checked: dict[tuple, tuple[float, str]] = {}  # (bucket, endpoint) -> (asked when, its answer)


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
@never_cache
@require_safe
def readyz(request):
    checks = {"database": _database(), "upstream": _upstream()}
    failing = [name for name, result in checks.items() if result != "ok"]
    cache_check, media_check, engine = _cache(), _media(), _engine()
    warnings = []
    if cache_check != "ok":
        warnings.append(f"cache: {cache_check}")
    if media_check != "ok":
        warnings.append(f"media: {media_check}")
    if "error" in engine:
        warnings.append(f"engine: {engine['error']}")
    elif engine.get("backlog"):
        warnings.append(f"backlog: oldest job waiting {engine['oldest_waiting_seconds']:.0f} s")
    if engine.get("workers_seen") == 0 and engine.get("waiting"):
        warnings.append("no worker seen")
    body = {
        "status": "fail" if failing else ("degraded" if warnings else "ok"),
        "checks": {**checks, "cache": cache_check, "media": media_check},
        "failing": failing,
        "warnings": warnings,
        "engine": engine,
    }
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


def _media() -> str:
    if not storage.is_bucket():
        root = settings.MEDIA_ROOT
        folder = root if os.path.isdir(root) else os.path.dirname(root)  # made at the first write
        return "ok" if os.access(folder, os.W_OK) else "error: MEDIA_ROOT is not writable"
    which = (settings.MJ_MEDIA_BUCKET, settings.MJ_MEDIA_ENDPOINT_URL)
    checked_at, result = _media_checked.get(which, (-MEDIA_CHECK_SECONDS, ""))
    if time.monotonic() - checked_at < MEDIA_CHECK_SECONDS:
        return result
    try:
        storage.bucket_check(seconds=MEDIA_CHECK_DEADLINE)
        result = "ok"
    except storage.StorageUnavailable as exc:
        logger.warning("readyz: %s", exc)
        result = f"error: {exc}"
    except Exception as exc:  # e.g. credentials boto3 could not find
        logger.warning("readyz: bucket check failed: %r", exc)
        result = f"error: {type(exc).__name__}"
    _media_checked[which] = (time.monotonic(), result)
    return result


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


def _engine() -> dict:
    try:
        return status.engine_state()
    except Exception as exc:
        logger.warning("readyz: engine check failed: %r", exc)
        return {"backend": settings.MJ_TASK_BACKEND, "error": type(exc).__name__}


def _upstream() -> str:
    return "ok" if settings.MJ_API_BASE else "MJ_API_BASE is not set"
