"""A whole-call deadline for outgoing HTTP that holds whatever the peer does.

A socket timeout bounds one read, not a call: a peer that sends a byte every
few seconds (in its headers, its chunk sizes or its body) never trips it, and
a blocking read of a whole chunk waits for all of it. So a call runs under a
`Deadline`: every connection a thread opens or sends on while `watching()` is
recorded, and when the time is up a timer shuts those sockets down, which
wakes any read blocked on them. The caller then sees `cut` and reports a
timeout, whatever exception (or truncated body) the cut produced.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

_current = threading.local()


class Deadline:
    """One call's deadline, shared by every thread working for that call."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds
        self.cut = False
        self._lock = threading.Lock()
        self._connections: list = []
        self._closed = False
        self._timer = threading.Timer(max(0.0, seconds), self._cut_all)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._closed = True
            self._connections.clear()
        self._timer.cancel()

    def remaining(self) -> float:
        return self.at - time.monotonic()

    @property
    def passed(self) -> bool:
        return self.cut or self.remaining() <= 0

    @contextlib.contextmanager
    def watching(self):
        """Within this block, connections this thread uses are cut at the deadline."""
        previous = getattr(_current, "deadline", None)
        _current.deadline = self
        try:
            yield self
        finally:
            _current.deadline = previous

    def watch(self, connection) -> None:
        with self._lock:
            if self._closed:
                return
            if connection not in self._connections:
                self._connections.append(connection)
            late = self.cut
        if late:
            _shut(connection)

    def _cut_all(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.cut = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


def _shut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    # The plain socket's shutdown even on TLS: SSLSocket.shutdown would also
    # drop its SSL object under the reading thread's feet. OSError: already closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class WatchedConnection:
    """Mixed into urllib3 connection classes: connecting or sending joins the thread's deadline."""

    def connect(self) -> None:
        _join(self)
        super().connect()
        _join(self)  # the socket exists now: one opened past the deadline (a retry) is cut at once

    def request(self, *args, **kwargs):
        _join(self)
        return super().request(*args, **kwargs)


def _join(connection) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)
