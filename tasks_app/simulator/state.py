"""Simulator state that tests steer: a settable clock and a book of queued faults.

Tests drive time and failures through these objects instead of sleeping or
patching HTTP, so every behaviour is observed over a real socket.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

FAULT_KINDS = frozenset(
    {
        "401",
        "403",
        "429",
        "500",
        "502html",
        "timeout",
        "reset",
        "echo_key",
        "not_json",
        "object",
        "partial",
        "duplicate",
    }
)
ALL_ROUTES = ("list", "fetch", "imagine", "action", "modal", "cancel", "image")


class Clock:
    """Seconds since the epoch; follows real time unless frozen, and can be moved.

    Demo mode needs tasks to progress by themselves; tests freeze it (or just
    advance it far enough) so that states are deterministic.
    """

    def __init__(self, start: float | None = None, *, frozen: bool = False):
        self._lock = threading.Lock()
        self._base = time.time() if start is None else float(start)
        self._anchor = time.monotonic()
        self._frozen = frozen
        self.listeners: list = []  # called after each advance (notifyHook delivery)

    def now(self) -> float:
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + (time.monotonic() - self._anchor)

    def advance(self, secs: float) -> float:
        with self._lock:
            self._base += float(secs)
        for listener in list(self.listeners):
            listener()
        return self.now()

    @property
    def frozen(self) -> bool:
        return self._frozen

    def set(self, when: float) -> None:
        with self._lock:
            self._base = float(when)
            self._anchor = time.monotonic()

    def freeze(self) -> None:
        now = self.now()
        with self._lock:
            self._base, self._frozen = now, True

    def resume(self) -> None:
        with self._lock:
            self._anchor, self._frozen = time.monotonic(), False


@dataclass
class Fault:
    kind: str
    remaining: int
    retry_after: float | int | str | None
    routes: tuple[str, ...]


class FaultBook:
    """Faults waiting for matching requests; each one fires `times` times, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, *, times: int, retry_after, routes) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        routes = (routes,) if isinstance(routes, str) else tuple(routes)
        if "*" in routes:
            routes = ALL_ROUTES
        with self._lock:
            self._faults.append(Fault(kind, int(times), retry_after, routes))

    def take(self, route: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and route in fault.routes:
                    fault.remaining -= 1
                    return fault
            return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
