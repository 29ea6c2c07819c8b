"""Archive, thumbnails and the download guard, against the simulator over loopback.

Refused cases that the relay simulator cannot serve (HTML, SVG, a bomb, a
redirect elsewhere) come from a tiny loopback origin server defined here.
"""

import io
import socket
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.test import Client
from PIL import Image

from tasks_app import services
from tasks_app.images import fetch
from tasks_app.models import TaskImage

pytestmark = pytest.mark.django_db

RAW_ID = "1743326750223591"


class Origin:
    """A loopback web server answering canned (status, headers, body) by path."""

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, headers, body = origin.routes.get(self.path, (404, {}, b"no"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers and not headers.get("_stream"):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def origin():
    server = Origin()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _grid_task(simulator, prompt="a lighthouse at dusk"):
    task_id = simulator.add_task(prompt=prompt, run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    return task_id


def _raw_task(simulator, image_url, task_id=RAW_ID):
    simulator.put_raw(
        {"id": task_id, "action": "UPSCALE", "status": "SUCCESS", "prompt": "odd", "imageUrl": image_url}
    )
    services.task_lookup(ids=[task_id])
    return task_id


def _png(width, height, colour=(200, 40, 40)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def _bomb_png(width, height):
    """A small file that declares a huge picture."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _media_files(settings):
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# ---- archive and thumbnail ----------------------------------------------------


def test_a_finished_task_is_archived_by_a_job_and_its_thumbnail_is_a_small_webp(
    logged_in, simulator, settings
):
    task_id = _grid_task(simulator)  # the lookup stores it finished: its jobs archive every image
    assert simulator.calls["image"] == 5  # the grid and its four images, once each
    simulator.reset_counters()

    response = logged_in.get(f"/tasks/{task_id}/thumb.webp")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    body = b"".join(response.streaming_content)
    thumb = Image.open(io.BytesIO(body))
    assert thumb.format == "WEBP" and max(thumb.size) == 512
    image = TaskImage.objects.get(task_id=task_id, index=0)
    assert image.is_ok and (image.width, image.height) == (2048, 2048)
    assert image.content_type == "image/png" and len(image.sha256) == 64
    assert image.bytes == Path(settings.MEDIA_ROOT, image.original).stat().st_size
    assert image.preview.startswith("data:image/webp;base64,")
    assert response["ETag"] == image.etag
    assert len(body) < image.bytes * 0.02

    logged_in.get(f"/tasks/{task_id}/thumb.webp")
    assert simulator.calls["image"] == 0  # serving never downloads


def test_a_conditional_request_answers_304(logged_in, simulator):
    task_id = _grid_task(simulator)
    etag = logged_in.get(f"/tasks/{task_id}/thumb.webp")["ETag"]

    response = logged_in.get(f"/tasks/{task_id}/thumb.webp", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag
    assert "immutable" in response["Cache-Control"]


def test_the_archive_outlives_the_upstream_url(logged_in, simulator):
    task_id = _grid_task(simulator, prompt="雾中的灯塔 lighthouse")
    upstream_url = simulator.payload(task_id)["imageUrl"]
    assert logged_in.get(f"/tasks/{task_id}/thumb.webp").status_code == 200

    simulator.clock.advance(3 * 86400)
    assert requests.get(upstream_url, timeout=5).status_code == 404

    assert logged_in.get(f"/tasks/{task_id}/thumb.webp").status_code == 200
    original = logged_in.get(f"/tasks/{task_id}/image")
    assert original.status_code == 200
    assert original["Content-Type"] == "image/png"
    assert "attachment" in original["Content-Disposition"]
    assert f"{task_id}-" in original["Content-Disposition"] and ".png" in original["Content-Disposition"]
    assert Image.open(io.BytesIO(b"".join(original.streaming_content))).size == (2048, 2048)


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_lookups_of_a_finished_task_download_each_image_once(simulator):
    task_id = simulator.add_task(prompt="a lighthouse at dusk", run=1.0)
    simulator.clock.advance(120)
    barrier = threading.Barrier(8)

    def look(_):
        barrier.wait(timeout=20)
        try:
            services.task_lookup(ids=[task_id], force=True)
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(look, range(8)))

    assert simulator.calls["image"] == 5
    assert TaskImage.objects.filter(task_id=task_id, state="ok").count() == 5


def test_a_quadrant_opens_large_cropped_from_the_original(logged_in, simulator):
    task_id = _grid_task(simulator)

    response = logged_in.get(f"/tasks/{task_id}/quadrant/2.webp")

    assert response.status_code == 200
    quadrant = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert quadrant.size == (1024, 1024)
    assert logged_in.get(f"/tasks/{task_id}/quadrant/5.webp").status_code == 404


def test_the_detail_page_numbers_the_quadrants_with_their_buttons(logged_in, simulator):
    task_id = _grid_task(simulator)

    html = logged_in.get(f"/tasks/{task_id}/").content.decode()

    for n in range(1, 5):
        assert f'href="/tasks/{task_id}/quadrant/{n}.webp"' in html
    quadrants = html.split('class="quadrants"', 1)[1].split("detail-body", 1)[0]
    assert "U3" in quadrants and "V3" in quadrants
    assert f"/tasks/{task_id}/image" in html


def test_cards_show_the_archive_thumbnail_lazily_with_its_size_and_never_an_upstream_url(
    logged_in, simulator
):
    task_id = _grid_task(simulator)
    logged_in.get(f"/tasks/{task_id}/thumb.webp")

    html = logged_in.get("/tasks/", {"ids": task_id}).content.decode()

    assert f'src="/tasks/{task_id}/thumb.webp?v=' in html
    assert 'loading="lazy"' in html and 'width="512" height="512"' in html
    assert 'class="thumb-preview" src="data:image/webp;base64,' in html
    assert "/attachments/" not in html
    assert "style=" not in html


# ---- refused and failed downloads ----------------------------------------------------


def _assert_unavailable(logged_in, settings, task_id, code, detail=""):
    image = TaskImage.objects.get(task_id=task_id, index=0)
    assert image.state == TaskImage.State.FAILED
    assert image.failure == code, image.failure_detail
    assert detail in image.failure_detail
    assert _media_files(settings) == []
    card = logged_in.get("/tasks/", {"ids": task_id}).content.decode()
    assert "image unavailable: " in card
    assert f'action="/tasks/{task_id}/image/retry"' in card
    assert f"/tasks/{task_id}/thumb.webp" not in card


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://10.0.0.1/x.png", "10.0.0.1 (private)"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
    ],
)
def test_a_private_address_is_refused_before_connecting(
    logged_in, simulator, settings, monkeypatch, url, detail
):
    task_id = _raw_task(simulator, url)
    connects = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda s, a: connects.append(a) or real_connect(s, a))

    response = logged_in.get(f"/tasks/{task_id}/thumb.webp")

    assert response.status_code == 404
    assert "image unavailable: address not allowed" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert not [a for a in connects if a[0] in ("10.0.0.1", "169.254.169.254")]
    _assert_unavailable(logged_in, settings, task_id, "address", detail)


def test_loopback_is_refused_unless_a_setting_allows_it(logged_in, simulator, settings):
    settings.MJ_IMAGE_ALLOW_LOOPBACK = False
    task_id = _grid_task(simulator)
    simulator.reset_counters()

    logged_in.get(f"/tasks/{task_id}/thumb.webp")

    assert simulator.calls["image"] == 0
    _assert_unavailable(logged_in, settings, task_id, "address", "127.0.0.1 (loopback)")


def test_a_redirect_to_a_private_address_is_refused(logged_in, simulator, settings, origin):
    origin.routes["/a.png"] = (302, {"Location": origin.url("/b.png")}, b"")
    origin.routes["/b.png"] = (302, {"Location": "http://169.254.169.254/latest/meta-data"}, b"")
    task_id = _raw_task(simulator, origin.url("/a.png"))

    logged_in.get(f"/tasks/{task_id}/thumb.webp")

    _assert_unavailable(logged_in, settings, task_id, "address", "169.254.169.254")


def test_redirects_are_followed_by_hand_a_few_times_only(logged_in, simulator, settings, origin):
    for n in range(5):
        origin.routes[f"/{n}.png"] = (302, {"Location": f"/{n + 1}.png"}, b"")
    origin.routes["/5.png"] = (200, {"Content-Type": "image/png"}, _png(64, 64))
    task_id = _raw_task(simulator, origin.url("/0.png"))

    logged_in.get(f"/tasks/{task_id}/thumb.webp")

    _assert_unavailable(logged_in, settings, task_id, "redirects")


def test_one_redirect_to_an_image_is_fine(logged_in, simulator, origin):
    origin.routes["/old.png"] = (301, {"Location": "/new.png"}, b"")
    origin.routes["/new.png"] = (200, {"Content-Type": "image/png"}, _png(640, 320))
    task_id = _raw_task(simulator, origin.url("/old.png"))

    response = logged_in.get(f"/tasks/{task_id}/thumb.webp")

    assert response.status_code == 200
    assert TaskImage.objects.get(task_id=task_id, index=0).thumb_width == 512


def test_a_too_large_image_is_refused_from_its_declared_length(logged_in, simulator, settings):
    settings.MJ_IMAGE_MAX_BYTES = 100_000
    task_id = _grid_task(simulator)

    logged_in.get(f"/tasks/{task_id}/thumb.webp")

    _assert_unavailable(logged_in, settings, task_id, "too_large")


def test_a_too_large_image_is_refused_while_streaming(logged_in, simulator, settings, origin):
    settings.MJ_IMAGE_MAX_BYTES = 1000
    origin.routes["/big.png"] = (
        200,
        {"Content-Type": "image/png", "_stream": "1", "Connection": "close"},
        b"x" * 5000,
    )
    task_id = _raw_task(simulator, origin.url("/big.png"))

    logged_in.get(f"/tasks/{task_id}/thumb.webp")

    _assert_unavailable(logged_in, settings, task_id, "too_large", "> ")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({"Content-Type": "text/html"}, b"<html><body>Just a moment...</body></html>", "not_image"),
        ({"Content-Type": "image/svg+xml"}, b'<svg xmlns="http://www.w3.org/2000/svg"/>', "svg"),
        (
            {"Content-Type": "image/png"},
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
            "svg",
        ),
        ({"Content-Type": "image/png"}, _png(64, 64)[:60], "not_image"),
        ({"Content-Type": "image/png"}, _bomb_png(10_000, 10_000), "bomb"),
        ({"Content-Type": "image/png"}, _bomb_png(40_000, 40_000), "bomb"),
    ],
    ids=["html", "svg", "svg-as-png", "truncated", "bomb-warning", "bomb-error"],
)
def test_a_body_that_is_not_a_safe_raster_image_is_refused(
    logged_in, simulator, settings, origin, headers, body, code
):
    origin.routes["/x.png"] = (200, headers, body)
    task_id = _raw_task(simulator, origin.url("/x.png"))

    response = logged_in.get(f"/tasks/{task_id}/thumb.webp")

    assert response.status_code == 404
    _assert_unavailable(logged_in, settings, task_id, code)


def test_a_slow_image_host_times_out(logged_in, simulator, settings):
    settings.MJ_IMAGE_TIMEOUT = 0.5
    settings.MJ_IMAGE_RETRIES = 0
    simulator.set_fault("timeout", routes="image", times=5)  # every image of the grid
    task_id = _grid_task(simulator)

    _assert_unavailable(logged_in, settings, task_id, "timeout")


def test_a_failing_image_host_is_unavailable_and_retry_recovers(logged_in, simulator, settings):
    settings.MJ_IMAGE_RETRIES = 0
    simulator.set_fault("500", routes="image", times=5)  # every image of the grid
    task_id = _grid_task(simulator)
    _assert_unavailable(logged_in, settings, task_id, "http", "HTTP 500")

    back = f"http://testserver/tasks/?ids={task_id}"  # no `next` field: the page it came from
    response = logged_in.post(f"/tasks/{task_id}/image/retry", headers={"Referer": back})

    assert response.status_code == 302 and response.url == back
    assert TaskImage.objects.get(task_id=task_id, index=0).is_ok
    assert logged_in.get(f"/tasks/{task_id}/thumb.webp").status_code == 200


def test_retry_through_htmx_answers_the_image_block(logged_in, simulator, settings):
    settings.MJ_IMAGE_RETRIES = 0
    simulator.set_fault("500", routes="image", times=5)  # every image of the grid
    task_id = _grid_task(simulator)

    response = logged_in.post(f"/tasks/{task_id}/image/retry", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert f'id="thumb-{task_id}"' in html and "thumb.webp?v=" in html


def test_retry_needs_a_post_with_csrf(simulator, user):
    task_id = _grid_task(simulator)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(f"/tasks/{task_id}/image/retry").status_code == 405
    assert client.post(f"/tasks/{task_id}/image/retry").status_code == 403


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("2606:4700::1111", True),
    ],
)
def test_the_address_guard(settings, address, allowed):
    import ipaddress

    settings.MJ_IMAGE_ALLOW_LOOPBACK = False
    assert (fetch.address_refusal(ipaddress.ip_address(address)) == "") is allowed


def test_an_allowed_network_lets_a_private_host_through(settings):
    import ipaddress

    settings.MJ_IMAGE_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert fetch.address_refusal(ipaddress.ip_address("10.20.3.4")) == ""
    assert fetch.address_refusal(ipaddress.ip_address("10.21.3.4")) == "private"


def test_unknown_tasks_and_unfinished_ones_have_no_image(logged_in, simulator):
    task_id = simulator.add_task(prompt="slow", run=100.0)
    simulator.clock.advance(50)
    services.task_lookup(ids=[task_id])
    simulator.reset_counters()

    assert logged_in.get(f"/tasks/{task_id}/thumb.webp").status_code == 404
    assert logged_in.get("/tasks/99999999999/thumb.webp").status_code == 404
    assert simulator.calls["image"] == 0


# ---- the archive command ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_archive_images_archives_every_image_once_and_is_safe_to_run_again(simulator, settings):
    ids = [_grid_task(simulator, prompt=f"fox {n}") for n in range(2)]
    TaskImage.objects.all().delete()  # as if stored before any worker ran
    simulator.reset_counters()
    out = io.StringIO()

    call_command("archive_images", "--workers", "3", stdout=out)

    assert TaskImage.objects.filter(task_id__in=ids, state="ok").count() == 10  # grid + 4 each
    assert "archived 10" in out.getvalue() and "failed 0" in out.getvalue()
    simulator.reset_counters()
    again = io.StringIO()
    call_command("archive_images", stdout=again)
    assert "archived 0" in again.getvalue()
    assert simulator.calls["image"] == 0


def test_a_thumbnail_without_login_needs_the_signed_token_from_a_page(logged_in, simulator):
    client = Client()  # anonymous, beside the logged-in one
    task_id = _grid_task(simulator)
    logged_in.get(f"/tasks/{task_id}/thumb.webp")
    html = logged_in.get("/tasks/", {"ids": task_id}).content.decode()
    signed = html.split(f"/tasks/{task_id}/thumb.webp?v=", 1)[1].split('"', 1)[0]
    image = TaskImage.objects.get(task_id=task_id, index=0)

    assert client.get(f"/tasks/{task_id}/thumb.webp").status_code == 302
    assert client.get(f"/tasks/{task_id}/thumb.webp?v={image.sha256[:12]}").status_code == 302
    tampered = signed[:-1] + ("1" if signed[-1] == "0" else "0")
    assert client.get(f"/tasks/{task_id}/thumb.webp?v={tampered}").status_code == 302
    response = client.get(f"/tasks/{task_id}/thumb.webp?v={signed}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"


def test_an_anonymous_request_never_starts_a_download(client, simulator, jobs_held):
    task_id = _grid_task(simulator)  # finished; its jobs are held, not run
    simulator.reset_counters()

    assert client.get(f"/tasks/{task_id}/thumb.webp?v=0123456789abcdef0123456789abcdef").status_code == 302
    assert simulator.calls["image"] == 0
    assert not TaskImage.objects.filter(task_id=task_id, state="ok").exists()


def test_retry_asks_the_relay_again_so_a_re_signed_url_recovers_the_image(logged_in, simulator):
    expired = simulator.image_url(RAW_ID, ttl=-60)  # already past its ex=
    task_id = _raw_task(simulator, expired)
    logged_in.get(f"/tasks/{task_id}/thumb.webp")
    assert not TaskImage.objects.get(task_id=task_id, index=0).is_ok
    _raw_task(simulator, simulator.image_url(RAW_ID))  # the relay now answers a fresh URL
    simulator.reset_counters()

    logged_in.post(f"/tasks/{task_id}/image/retry")

    assert simulator.calls["list"] == 1  # the final task was asked again
    assert TaskImage.objects.get(task_id=task_id, index=0).is_ok


def test_a_thumbnail_token_that_is_not_ascii_is_refused_not_a_500(client, simulator):
    task_id = _grid_task(simulator)
    response = client.get(f"/tasks/{task_id}/thumb.webp", {"v": "é"})
    assert response.status_code == 302  # to the login page, like any other wrong token
