"""A peer that answers as slowly as it likes: a real TCP server on loopback.

It reads a request (headers, and a body as long as its Content-Length), then
writes `fast` at once and `slow` one byte per `interval` seconds, the way a
hostile or overloaded relay or image host can. It keeps every request's body
and which are still being answered (`in_flight`).
"""

from __future__ import annotations

import re
import socket
import threading
import time


class TrickleServer:
    def __init__(self, *, fast: bytes = b"", slow: bytes = b"", interval: float = 1.0):
        self.fast, self.slow, self.interval = fast, slow, interval
        self.connections = 0
        self.bodies: list[bytes] = []  # of every request, in arrival order
        self.in_flight: set[int] = set()  # indexes into bodies of those still being answered
        self.spans: list[list[float | None]] = []  # [arrived, ended] of each (monotonic; None: still on)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so the accept loop sees the stop
        self._thread = threading.Thread(target=self._accept, name="trickle", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def most_at_once(self, needle: bytes) -> int:
        """The most requests whose body holds `needle` that were answered at the same time."""
        with self._lock:
            spans = [span for body, span in zip(self.bodies, self.spans, strict=True) if needle in body]
        spans = [(start, end if end is not None else float("inf")) for start, end in spans]
        return max((sum(1 for s, e in spans if s <= start < e) for start, _end in spans), default=0)

    def __enter__(self) -> TrickleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed by __exit__
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)  # accepted sockets inherit the listener's timeout otherwise
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    data = conn.recv(65536)
                    if not data:
                        return
                    request += data
                head, _sep, body = request.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
                while length and len(body) < int(length.group(1)):
                    data = conn.recv(65536)
                    if not data:
                        return
                    body += data
                with self._lock:
                    index = len(self.bodies)
                    self.bodies.append(body)
                    self.spans.append([time.monotonic(), None])
                    self.in_flight.add(index)
                try:
                    conn.sendall(self.fast)
                    for byte in self.slow:
                        if self._stop.wait(self.interval):
                            return
                        conn.sendall(bytes([byte]))
                finally:
                    with self._lock:
                        self.in_flight.discard(index)
                        self.spans[index][1] = time.monotonic()
            except OSError:  # the client cut us off: that is the point
                return
