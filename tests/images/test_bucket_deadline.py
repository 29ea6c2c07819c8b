"""A bucket that is slow or silent costs at most MJ_MEDIA_DEADLINE per call, whatever
its per-read timeout and retries: the deadline cuts the call (every attempt), it
fails as StorageUnavailable, and what depends on it says so: a worker schedules a
retry, an image route answers 503, /readyz reports the bucket, in time.

The test bucket's per-read timeout is 5 s with three attempts (tests/conftest.py);
each test holds one request at the S3 server (tests/s3server.py) and sets a 1 s
deadline. Cut by the deadline, the call's retries are cut too: the server sees the
held request alone. Without the cut, the read times out and a retry, no longer
held, reaches the server (and succeeds)."""

import io
import zipfile

import pytest

from mjdash import health
from tasks_app.gallery import exports
from tasks_app.images import storage
from tasks_app.models import TaskImage
from tests.images.test_bucket import _grid_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(settings, bucket, s3_server):
    """Hold the next request of a method for a key containing a marker, with a 1 s deadline."""
    settings.MJ_MEDIA_DEADLINE = 1
    holds = []

    def hold(marker: str, method: str):
        holds.append(s3_server.hold(marker, method))
        return holds[-1]

    yield hold
    for one in holds:
        s3_server.release(one)


def test_an_upload_the_bucket_never_answers_fails_at_the_deadline(held, bucket):
    put = held("deadline-put", "PUT")

    with pytest.raises(
        storage.StorageUnavailable, match=r"^saving images/deadline-put\.png: no answer within 1 s$"
    ):
        storage.save("images/deadline-put.png", b"\x89PNG" + b"0" * 1000)

    assert put.arrived.is_set()
    assert "images/deadline-put.png" not in bucket.stored()  # and no second attempt got through
    assert [call.method for call in bucket.calls] == ["PUT"]


@pytest.mark.parametrize("seekable", [True, False])  # spooled for Pillow, or streamed
def test_a_read_the_bucket_never_answers_fails_at_the_deadline(held, bucket, seekable):
    storage.save("images/deadline-get.png", b"\x89PNG" + b"1" * 1000)
    get = held("deadline-get", "GET")
    bucket.reset()

    with pytest.raises(storage.StorageUnavailable, match=r"^reading images/deadline-get\.png: no answer"):
        storage.open("images/deadline-get.png", seekable=seekable)

    assert get.arrived.is_set()
    assert [call.method for call in bucket.calls] == ["GET"]


def test_an_image_route_answers_503_in_the_viewers_language_while_the_bucket_is_silent(
    logged_in, simulator, held, settings, bucket
):
    settings.MJ_MEDIA_SERVE = "stream"  # the app reads the bucket for the browser
    task_id = _grid_task(simulator)
    original = TaskImage.objects.get(task_id=task_id, index=0).original

    for language, text in (("en", "Image storage is not answering"), ("zh-Hans", "图片存储暂时没有响应")):
        held(original, "GET")
        bucket.reset()
        response = logged_in.get(f"/tasks/{task_id}/image", HTTP_ACCEPT_LANGUAGE=language)

        assert response.status_code == 503
        assert (response["Retry-After"], response["Cache-Control"]) == ("5", "no-store")
        assert text in response.content.decode()
        assert bucket.count() == 1

    assert logged_in.get(f"/tasks/{task_id}/image").status_code == 200  # answered again: served


def test_a_worker_whose_upload_is_cut_schedules_a_retry_and_records_nothing(simulator, held, bucket):
    task_id = simulator.add_task(prompt="a slow bucket", run=1.0)
    simulator.clock.advance(120)
    held(f"images/{task_id}/0-", "PUT")  # the grid's original: its first file
    bucket.reset()

    from tasks_app import services

    services.task_lookup(ids=[task_id])

    grid = TaskImage.objects.get(task_id=task_id, index=0)
    assert (grid.state, grid.failure, grid.failure_detail) == ("failed", "error", "StorageUnavailable")
    assert grid.retry_at is not None and grid.tries == 1
    assert (grid.original, grid.thumb) == ("", "")
    assert [call.key for call in bucket.calls if call.key.startswith(f"images/{task_id}/0-")] == [
        bucket.calls[0].key
    ]  # the held PUT alone: its retries were cut too


def test_readyz_reports_a_silent_bucket_within_its_probe_deadline(
    client, settings, held, bucket, monkeypatch
):
    settings.MJ_API_BASE = "http://127.0.0.1:9"
    monkeypatch.setattr(health, "MEDIA_CHECK_SECONDS", 0.0)
    monkeypatch.setattr(health, "MEDIA_CHECK_DEADLINE", 0.5)
    held("", "HEAD")
    bucket.reset()

    body = client.get("/readyz").json()

    assert body["status"] == "degraded"
    assert body["checks"]["media"] == "error: checking the bucket: no answer within 0.5 s"
    assert [call.method for call in bucket.calls] == ["HEAD"]


def test_a_zip_leaves_out_an_original_the_bucket_does_not_send_and_says_so(logged_in, simulator, held, user):
    from tasks_app.models import TaskSet

    ids = [_grid_task(simulator, prompt=f"zip {n}") for n in range(2)]
    TaskSet.objects.create(slug="slowzip001", ids=ids, ids_hash="x", created_by=user)
    held(TaskImage.objects.get(task_id=ids[0], index=0).original, "GET")

    response = logged_in.get("/s/slowzip001/images.zip")

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = archive.namelist()
    assert names[-1] == "MISSING.txt" and len(names) == 1 + 5 + 4  # the other grid whole, 4 of this one
    missing = archive.read("MISSING.txt").decode().splitlines()
    held_one = f"{ids[0]}-zip-0.png: {exports.NO_ANSWER}"
    assert [line for line in missing if line.startswith(ids[0])] == [held_one]
    assert exports.NO_ANSWER.startswith("the image storage did not answer")
