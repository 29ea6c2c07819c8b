"""The HTTP transport: a quiet threading server that hands each request to `api.handle`.

Daemon threads and no join on close, so a test's `stop()` returns at once even
while a "timeout" fault is holding a connection open.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from . import api

if TYPE_CHECKING:
    from .core import Simulator

MAX_BODY = 64 * 1024 * 1024


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        """Clients hang up mid-answer on purpose (timeouts); that is not news."""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mjdash-simulator"
    sys_version = ""
    timeout = 60
    # A kept-alive answer must not wait for the client's delayed ACK (about
    # 40 ms a request): Nagle's algorithm off, and headers and body in one send.
    disable_nagle_algorithm = True
    sim: Simulator

    def do_GET(self) -> None:
        self._answer("GET")

    def do_HEAD(self) -> None:
        self._answer("GET", send_body=False)

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format, *args) -> None:
        """Print nothing: the simulator runs inside test output and the demo server."""

    def _answer(self, method: str, send_body: bool = True) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""
        reply = api.handle(self.sim, method, url.path, parse_qs(url.query), self.headers, raw)
        if reply is None:
            self.close_connection = True
            return
        status, headers, data = reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if isinstance(data, bytes):
            self.send_header("Content-Length", str(len(data)))
        self._headers_buffer.append(b"\r\n")  # what end_headers adds, without its separate flush
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        if isinstance(data, bytes) or not send_body:
            self.wfile.write(head + data if send_body and isinstance(data, bytes) else head)
            return
        self.wfile.write(head)  # then the chunks, apart (api.py set the Content-Length)
        self.close_connection = True
        for chunk in data:
            self.wfile.write(chunk)
            self.wfile.flush()


def make_server(sim: Simulator, host: str, port: int) -> QuietServer:
    handler = type("SimulatorHandler", (Handler,), {"sim": sim})
    return QuietServer((host, port), handler)
