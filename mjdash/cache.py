"""The shared cache (Redis) as an aid, never a dependency of a page.

Django's RedisCache raises on a refused, reset or timed-out connection, so a
five-second Redis restart turned three pages in four into 500s. Here, with
Redis unreachable, every read answers "not cached", every write is skipped
and `add` claims nothing, so pages render from the database as last stored
(no lookup takes the freshness claim, so none asks the relay: a dead cache
cannot coordinate a stampede). `incr` raises `CacheUnavailable`: counting
(the press rate) cannot be faked, and the caller decides.

After an error the cache is not tried for `RETRY_SECONDS` (a dead Redis
would otherwise cost every call a connect attempt); `cache_down()` says so,
and every page shows a banner meanwhile (tasks_app.context_processors).
"""

from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
_down_until = 0.0  # per process: each one finds out for itself


class CacheUnavailable(Exception):
    """The cache cannot be reached, and the caller needs a real answer."""


def cache_down() -> bool:
    return time.monotonic() < _down_until


def _mark_down(exc: Exception) -> None:
    global _down_until
    if not cache_down():
        logger.warning("cache unavailable for %.0f s: %r", RETRY_SECONDS, exc)
    _down_until = time.monotonic() + RETRY_SECONDS


_RAISE = object()


def _degrading(name: str, fallback):
    method = getattr(RedisCache, name)

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if not cache_down():
            try:
                return method(self, *args, **kwargs)
            except RedisError as exc:
                _mark_down(exc)
        if fallback is _RAISE:
            raise CacheUnavailable(name)
        return fallback(*args, **kwargs) if callable(fallback) else fallback

    return wrapper


def _default(key, default=None, *args, **kwargs):
    return default


class DegradingRedisCache(RedisCache):
    """RedisCache whose outage degrades to "nothing cached" (see the module's note)."""

    get = _degrading("get", _default)
    get_many = _degrading("get_many", {})
    has_key = _degrading("has_key", False)
    add = _degrading("add", False)
    set = _degrading("set", None)
    set_many = _degrading("set_many", lambda data, *a, **k: list(data))
    touch = _degrading("touch", False)
    delete = _degrading("delete", False)
    delete_many = _degrading("delete_many", None)
    clear = _degrading("clear", False)
    incr = _degrading("incr", _RAISE)
    decr = _degrading("decr", _RAISE)
