"""The download guard against a host with several addresses: every one is checked.

A host may resolve to a public address and a private one (DNS rebinding, a
split-horizon name, a relay CDN misconfigured); the guard refuses it whatever
the order, for each private or reserved class, before any connection is made.
The resolver is the one piece faked here: the "public" address is a loopback
origin that MJ_IMAGE_ALLOWED_NETWORKS lets through, so a guard that checked
only some addresses would really download from it.
"""

import io
import socket

import pytest
from PIL import Image

from tasks_app.images import fetch
from tasks_app.images.errors import ImageRefused
from tests.images.test_images import Origin

HOST = "images.example"
PRIVATE = [
    "127.0.0.2",  # loopback (loopback is not allowed here)
    "::1",
    "169.254.169.254",  # link-local: cloud metadata
    "fe80::1",
    "10.0.0.1",  # RFC 1918
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "198.18.0.1",  # benchmarking
    "fc00::1",  # IPv6 unique local
    "fd12:3456::1",
    "::ffff:10.0.0.1",  # IPv4-mapped IPv6
    "::ffff:169.254.169.254",
    "0.0.0.0",
    "::",
    "224.0.0.1",  # multicast
    "ff02::1",
    "240.0.0.1",  # reserved
]


@pytest.fixture
def origin(settings):
    server = Origin()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "PNG")
    server.routes["/x.png"] = (200, {"Content-Type": "image/png"}, out.getvalue())
    settings.MJ_IMAGE_ALLOW_LOOPBACK = False
    settings.MJ_IMAGE_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the origin stands for a public host
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def resolves(monkeypatch):
    """Make HOST resolve to the given addresses, in order; every connect is recorded."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    answer, connects = [], []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != HOST:
            return real_getaddrinfo(host, port, *args, **kwargs)
        infos = []
        for address in answer:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos

    def connect(sock, address):
        connects.append(address[0])
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)

    def set_answer(*addresses):
        answer[:] = addresses
        return connects

    return set_answer


def _url(origin):
    return f"http://{HOST}:{origin.server.server_address[1]}/x.png"


def test_a_host_whose_addresses_are_all_allowed_is_downloaded(origin, resolves):
    connects = resolves("127.0.0.1")
    with fetch.download(_url(origin)) as (_body, _digest, size):
        assert size > 0
    assert connects == ["127.0.0.1"]


@pytest.mark.parametrize("private", PRIVATE)
@pytest.mark.parametrize("private_first", [False, True], ids=["public-first", "private-first"])
def test_a_host_with_one_private_address_among_public_ones_is_refused_before_connecting(
    origin, resolves, private, private_first
):
    addresses = [private, "127.0.0.1"] if private_first else ["127.0.0.1", private]
    connects = resolves(*addresses)

    with pytest.raises(ImageRefused) as refused, fetch.download(_url(origin)):
        pass

    assert refused.value.code == "address"
    assert refused.value.detail.startswith(f"{private} (")
    assert connects == []
