"""Pages, poll answers and exports go out gzipped when the browser accepts it; images
and short answers do not. Django's GZipMiddleware pads each compressed answer with a
random-length gzip header (against BREACH): the same page compresses to different sizes."""

import gzip

import pytest

from tasks_app import services
from tasks_app.models import TaskSet
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.fixture
def big_set(user, jobs_held):
    ids = [str(1764000000000100 + n) for n in range(60)]
    services.task_store(
        records=[TaskRecord(id=i, status="SUCCESS", prompt=f"a calm sea number {i}") for i in ids]
    )
    return TaskSet.objects.create(slug="gzipslug01", ids=ids, ids_hash="x", created_by=user)


def test_a_page_is_sent_gzipped_and_reads_back_whole(logged_in, big_set):
    plain = logged_in.get("/s/gzipslug01/")
    packed = logged_in.get("/s/gzipslug01/", **GZIP)

    assert "Content-Encoding" not in plain and plain["Vary"].count("Accept-Encoding") == 1
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    page = gzip.decompress(packed.content)
    assert page.count(b'<article class="card') == plain.content.count(b'<article class="card') == 60
    assert len(packed.content) * 5 < len(page)


def test_the_same_page_compresses_to_different_sizes(logged_in, big_set):
    sizes = {len(logged_in.get("/s/gzipslug01/", **GZIP).content) for _ in range(8)}
    assert len(sizes) > 1  # the random padding; equal sizes 8 times: about 1 in 10^14


@pytest.mark.parametrize(
    ("path", "kind"), [("/s/gzipslug01/export.json", "json"), ("/s/gzipslug01/export.csv", "csv")]
)
def test_streamed_exports_are_gzipped_too(logged_in, big_set, path, kind):
    plain = b"".join(logged_in.get(path).streaming_content)
    packed = logged_in.get(path, **GZIP)

    assert packed["Content-Encoding"] == "gzip" and kind in packed["Content-Type"]
    assert gzip.decompress(b"".join(packed.streaming_content)) == plain


def test_a_poll_answer_is_gzipped_when_it_is_worth_it(logged_in, simulator):
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(10)
    services.task_lookup(ids=[task_id])
    simulator.clock.advance(10)

    changed = logged_in.post("/tasks/poll", {"ids": f"{task_id}:0"}, **GZIP)

    assert changed["Content-Encoding"] == "gzip"
    assert b"card" in gzip.decompress(changed.content)
