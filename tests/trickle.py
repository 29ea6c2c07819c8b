"""A peer that answers as slowly as it likes: a real TCP server on loopback.

It reads a request's headers, then writes `fast` at once and `slow` one byte
per `interval` seconds, the way a hostile or overloaded relay or image host can.
"""

from __future__ import annotations

import socket
import threading


class TrickleServer:
    def __init__(self, *, fast: bytes = b"", slow: bytes = b"", interval: float = 1.0):
        self.fast, self.slow, self.interval = fast, slow, interval
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so the accept loop sees the stop
        self._thread = threading.Thread(target=self._accept, name="trickle", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

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
                conn.sendall(self.fast)
                for byte in self.slow:
                    if self._stop.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:  # the client cut us off: that is the point
                return
