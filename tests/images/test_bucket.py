"""Archived images in an S3 bucket (MJ_MEDIA_BUCKET), against a real S3 server on
loopback (moto's server mode, tests/s3server.py), with every request to it counted.

The workers write each file with one PUT and record it only after (the
renditions read the stored original once); pages never
ask the bucket; a file route answers a logged-in user with a redirect to a
short-lived signed URL (or streams it with one GET); exports read each original
once; `archive_images --rebuild` reads only what the rows say is missing.
"""

import hashlib
import io
import threading
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.test import Client
from PIL import Image

from tasks_app import services
from tasks_app.images import storage
from tasks_app.images.archive import large_name, quadrant_name
from tasks_app.models import Task, TaskImage, TaskSet
from tests.s3server import Call

pytestmark = pytest.mark.django_db

ROUTES = ("thumb.webp", "large.webp", "image", "quadrant/2.webp")


def _grid_task(simulator, prompt="a lighthouse at dusk"):
    task_id = simulator.add_task(prompt=prompt, run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    return task_id


def _names(image: TaskImage) -> set[str]:
    names = {image.original, image.thumb} | ({image.large} if image.large else set())
    if image.quadrants:
        names |= {quadrant_name(image, n) for n in range(1, 5)}
    return names


def _local_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_finished_grid_is_archived_with_one_put_per_file_and_no_other_call(simulator, bucket, settings):
    task_id = _grid_task(simulator)

    images = list(TaskImage.objects.filter(task_id=task_id).order_by("index"))
    assert [image.state for image in images] == ["ok"] * 5
    grid = images[0]
    assert grid.large == large_name(grid) and grid.quadrants  # recorded, so serving need not ask
    expected = set().union(*(_names(image) for image in images))
    # The grid: original, thumbnail, large, four quadrants; each of its four images:
    # original and thumbnail. One PUT each; the renditions, built after every
    # thumbnail, read the grid's stored original once. No HEAD, no DELETE.
    assert len(expected) == 7 + 4 * 2
    assert sorted(call.key for call in bucket.calls if call.method == "PUT") == sorted(expected)
    assert [call for call in bucket.calls if call.method != "PUT"] == [Call("GET", grid.original)]
    assert bucket.stored() == sorted(expected)
    assert hashlib.sha256(bucket.read(grid.original)).hexdigest() == grid.sha256
    assert _local_files(settings) == []  # MEDIA_ROOT holds nothing


def test_pages_cost_no_call_to_the_bucket(logged_in, simulator, bucket, user):
    ids = [_grid_task(simulator, prompt=f"card {n}") for n in range(3)]
    TaskSet.objects.create(slug="bucketset01", ids=ids, ids_hash="x", created_by=user)
    bucket.reset()

    for path in ("/s/bucketset01/", "/tasks/", f"/tasks/{ids[0]}/", "/"):
        assert logged_in.get(path).status_code == 200, path

    assert bucket.calls == []


@pytest.mark.parametrize("route", ROUTES)
def test_a_file_route_redirects_after_login_to_a_short_lived_signed_url(logged_in, simulator, bucket, route):
    task_id = _grid_task(simulator)
    grid = TaskImage.objects.get(task_id=task_id, index=0)
    bucket.reset()

    response = logged_in.get(f"/tasks/{task_id}/{route}")

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, max-age=150"  # half the signature's life
    location = response["Location"]
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}" == bucket.server.endpoint
    assert query["X-Amz-Expires"] == ["300"] and query["X-Amz-Signature"]
    assert query["response-cache-control"] == ["private, max-age=300"]
    assert bucket.calls == []  # signed here, not asked of the bucket

    fetched = requests.get(location, timeout=10)
    assert fetched.status_code == 200
    key = parts.path.split("/", 2)[2]
    assert fetched.content == bucket.read(key)
    if route == "image":
        assert hashlib.sha256(fetched.content).hexdigest() == grid.sha256
        assert fetched.headers["Content-Type"] == "image/png"
        assert fetched.headers["Content-Disposition"].startswith("attachment; filename=")
        assert task_id in fetched.headers["Content-Disposition"]
    else:
        assert fetched.headers["Content-Type"] == "image/webp"
        assert Image.open(io.BytesIO(fetched.content)).format == "WEBP"
        assert fetched.headers["Content-Disposition"].startswith("inline")
    assert fetched.headers["Cache-Control"] == "private, max-age=300"


def test_without_a_login_no_signed_url_is_given_out(client, simulator, bucket):
    task_id = _grid_task(simulator)
    for route in ROUTES:
        response = client.get(f"/tasks/{task_id}/{route}")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/"), route
    # The card's thumbnail URL carries its own capability (?v=), as on the file system.
    image = TaskImage.objects.get(task_id=task_id, index=0)
    assert client.get(f"/tasks/{task_id}/thumb.webp", {"v": "0" * 32})["Location"].startswith("/accounts/")
    signed = client.get(f"/tasks/{task_id}/thumb.webp", {"v": image.token})
    assert signed["Location"].startswith(bucket.server.endpoint)


def test_stream_mode_sends_the_bytes_through_the_app_with_one_get_each(
    logged_in, simulator, bucket, settings
):
    settings.MJ_MEDIA_SERVE = "stream"
    task_id = _grid_task(simulator)
    bucket.reset()

    for route in ROUTES:
        response = logged_in.get(f"/tasks/{task_id}/{route}")
        assert response.status_code == 200, route
        body = b"".join(response.streaming_content)
        assert int(response["Content-Length"]) == len(body) > 0
        assert response["Cache-Control"].startswith("p")  # public thumbnails, private the rest
        not_modified = logged_in.get(f"/tasks/{task_id}/{route}", HTTP_IF_NONE_MATCH=response["ETag"])
        assert not_modified.status_code == 304
    assert [call.method for call in bucket.calls] == ["GET"] * len(ROUTES)


def test_a_sets_zip_reads_each_original_once(logged_in, simulator, bucket, user):
    ids = [_grid_task(simulator, prompt=f"zip {n}") for n in range(2)]
    TaskSet.objects.create(slug="bucketzip01", ids=ids, ids_hash="x", created_by=user)
    originals = TaskImage.objects.filter(task_id__in=ids)
    bucket.reset()

    response = logged_in.get("/s/bucketzip01/images.zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))

    assert len(archive.namelist()) == originals.count() == 10
    assert sorted(call.key for call in bucket.calls) == sorted(image.original for image in originals)
    assert {call.method for call in bucket.calls} == {"GET"}
    digests = {hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist()}
    assert digests == {image.sha256 for image in originals}


def test_rebuild_reads_only_the_originals_whose_rows_lack_a_rendition(simulator, bucket, settings):
    task_id = _grid_task(simulator)
    bucket.reset()

    call_command("archive_images", "--rebuild", stdout=io.StringIO())
    assert bucket.calls == []  # every rendition is recorded: nothing to read or write

    TaskImage.objects.filter(task_id=task_id, index=0).update(large="", quadrants=False)
    call_command("archive_images", "--rebuild", stdout=io.StringIO())

    grid = TaskImage.objects.get(task_id=task_id, index=0)
    assert grid.large == large_name(grid) and grid.quadrants
    assert [(call.method, call.key) for call in bucket.calls] == [
        ("GET", grid.original),
        ("PUT", grid.large),
        *[("PUT", quadrant_name(grid, n)) for n in range(1, 5)],
    ]


@pytest.mark.django_db(transaction=True)
def test_an_image_is_not_ready_while_its_upload_is_on_the_wire(simulator, bucket, s3_server, user):
    task_id = simulator.add_task(prompt="slow upload", run=1.0)
    simulator.clock.advance(120)
    hold = s3_server.hold(f"images/{task_id}/0-")  # the grid's original, the first file written
    worker = threading.Thread(target=services.task_lookup, kwargs={"ids": [task_id]})
    worker.start()
    try:
        assert hold.arrived.wait(timeout=30), "the original's upload never started"
        viewer = Client()
        viewer.force_login(user)

        assert TaskImage.objects.get(task_id=task_id, index=0).state == "running"
        response = viewer.get(f"/tasks/{task_id}/image")
        assert response.status_code == 503  # "being archived", not a half file
        assert not [key for key in bucket.stored() if key.startswith(f"images/{task_id}/0-")]
    finally:
        hold.released.set()
        worker.join(timeout=60)

    image = TaskImage.objects.get(task_id=task_id, index=0)
    assert image.state == "ok"
    response = Client()
    response.force_login(user)
    location = response.get(f"/tasks/{task_id}/image")["Location"]
    assert hashlib.sha256(requests.get(location, timeout=10).content).hexdigest() == image.sha256


# ---- the file system: the same calls, written atomically -----------------------------


class _CutShort(io.RawIOBase):
    """A download that breaks after its first bytes (the network, a killed sender)."""

    def __init__(self):
        self.sent = False

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.sent:
            raise OSError("connection reset")
        self.sent = True
        buffer[:4] = b"\x89PNG"
        return 4


def test_a_write_cut_short_on_the_file_system_leaves_what_was_there(settings):
    name = "images/1/0-abc.png"
    storage.save(name, b"whole old bytes")

    with pytest.raises(OSError, match="connection reset"):
        storage.save(name, _CutShort())
    with pytest.raises(OSError, match="connection reset"):
        storage.save("images/1/0-new.png", _CutShort())

    assert storage.open(name).read() == b"whole old bytes"
    assert [p.name for p in Path(settings.MEDIA_ROOT, "images/1").iterdir()] == ["0-abc.png"]


def test_the_file_system_answers_files_itself_without_a_signed_url(logged_in, simulator):
    task_id = _grid_task(simulator)
    assert not storage.is_bucket()
    assert storage.url("x.png", filename="x.png", content_type="image/png") is None
    assert logged_in.get(f"/tasks/{task_id}/image").status_code == 200
    assert Task.objects.filter(pk=task_id).exists()
