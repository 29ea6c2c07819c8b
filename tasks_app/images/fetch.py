"""The guarded download: the only way this project fetches a URL the relay gave it.

A URL from the relay may point anywhere, so: http(s) only; every address a
host resolves to is checked and the connection is made to a checked address
(DNS cannot change its answer in between); redirects are followed by hand and
checked again; no proxies from the environment; a size cap while streaming;
a deadline for the whole download that holds however slowly the host sends.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import tempfile
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from tasks_app.deadline import Deadline, WatchedConnection
from tasks_app.images.errors import ImageRefused

CHUNK = 64 * 1024


@contextmanager
def download(url: str):
    """(temporary file, sha256, size) of the body at `url`; raises ImageRefused."""
    with tempfile.TemporaryFile(prefix="mjdash-image-") as file:
        digest, size = _fetch(url, file)
        file.seek(0)
        yield file, digest, size


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why this address may not be fetched from, or "" when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for network in settings.MJ_IMAGE_ALLOWED_NETWORKS:
        if ip in ipaddress.ip_network(network, strict=False):
            return ""
    if ip.is_loopback:
        return "" if settings.MJ_IMAGE_ALLOW_LOOPBACK else "loopback"
    for kind in ("link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return "" if ip.is_global else "private"


def _fetch(url: str, out) -> tuple[str, int]:
    # One deadline for every hop and byte: its watchdog cuts a host that
    # trickles, which a per-read timeout never would.
    with Deadline(settings.MJ_IMAGE_TIMEOUT) as deadline:
        for _hop in range(settings.MJ_IMAGE_MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ImageRefused("scheme", parts.scheme)
            try:
                with deadline.watching():
                    found = _hop_to(url, out, deadline)
            except requests.RequestException as exc:
                timed_out = isinstance(exc, requests.Timeout) or deadline.passed
                code = "timeout" if timed_out or "timed out" in str(exc).lower() else "network"
                raise ImageRefused(code, type(exc).__name__) from None
            if deadline.cut:  # what was read may be cut short
                raise ImageRefused("timeout")
            if isinstance(found, str):
                url = found
                continue
            out.seek(0)
            if _looks_like_svg(out.read(1024)):
                raise ImageRefused("svg")
            return found
    raise ImageRefused("redirects", f"> {settings.MJ_IMAGE_MAX_REDIRECTS}")


def _hop_to(url: str, out, deadline: Deadline) -> str | tuple[str, int]:
    """One request: the next URL of a redirect, or (sha256, size) of the body written to `out`."""
    cap = settings.MJ_IMAGE_MAX_BYTES
    remaining = max(0.01, deadline.remaining())
    response = _session().get(
        url,
        stream=True,
        allow_redirects=False,
        timeout=(min(settings.MJ_IMAGE_CONNECT_TIMEOUT, remaining), remaining),
        headers={
            "Accept": "image/webp,image/png,image/jpeg,image/gif",
            "Accept-Encoding": "identity",
        },
    )
    with response:
        if response.is_redirect:
            return urljoin(url, response.headers.get("Location", ""))
        if response.status_code != 200:
            raise ImageRefused("http", f"HTTP {response.status_code}")
        if "svg" in response.headers.get("Content-Type", "").lower():
            raise ImageRefused("svg")
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > cap:
            raise ImageRefused("too_large", _megabytes(int(declared)))
        hasher, size = hashlib.sha256(), 0
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > cap:
                raise ImageRefused("too_large", f"> {_megabytes(cap)}")
            if deadline.passed:
                raise ImageRefused("timeout")
            hasher.update(chunk)
            out.write(chunk)
    return hasher.hexdigest(), size


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip().lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text)


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _guarded_socket(conn: HTTPConnection) -> socket.socket:
    """Resolve, refuse if ANY address is not allowed, then connect to a checked one."""
    host, port = conn._dns_host, conn.port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ImageRefused("dns", host) from None
    for *_rest, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        why = address_refusal(ip)
        if why:
            raise ImageRefused("address", f"{ip} ({why})")
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(conn.timeout)
            sock.connect(sockaddr)
            return sock
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(conn, f"connect to {host} timed out") from exc
        except OSError as exc:
            sock.close()
            error = exc
    raise NewConnectionError(conn, f"Failed to connect: {error}")


class _GuardedHTTPConnection(WatchedConnection, HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_socket(self)


class _GuardedHTTPSConnection(WatchedConnection, HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_socket(self)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


_shared: requests.Session | None = None


def _session() -> requests.Session:
    """The only way this project fetches an image. No proxies from the
    environment: a proxy would connect on our behalf, past the guard."""
    global _shared
    if _shared is None:
        session = requests.Session()
        session.trust_env = False
        adapter = _GuardedAdapter(pool_connections=8, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _shared = session
    return _shared
