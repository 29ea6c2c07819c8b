"""A thumbnail with its signed ?v= is served before sessions (SignedThumbnailMiddleware):
no database query, no session, no login; a wrong or missing token goes on to the view."""

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from PIL import Image

from tasks_app import services
from tasks_app.images import middleware
from tasks_app.images.archive import thumb_cache_key
from tasks_app.models import TaskImage

pytestmark = pytest.mark.django_db


@pytest.fixture
def archived(simulator, logged_in):
    task_id = simulator.add_task(prompt="a lighthouse at dusk", run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])  # the immediate backend archives it here
    image = TaskImage.objects.get(task_id=task_id, index=0)
    assert image.is_ok
    return task_id, image


def test_a_signed_thumbnail_costs_no_query_even_for_a_logged_in_visitor(
    logged_in, archived, django_assert_num_queries
):
    task_id, image = archived
    url = f"/tasks/{task_id}/thumb.webp?v={image.token}"
    logged_in.get(url)  # the first fills the cache

    with django_assert_num_queries(0):  # no session, no user, no image row
        response = logged_in.get(url, HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == image.etag and "Content-Encoding" not in response  # WebP is not gzipped
    assert "sessionid" not in response.cookies and "Vary" not in response
    assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_a_thumbnail_served_lately_is_served_again_without_the_shared_cache(
    archived, django_assert_num_queries
):
    task_id, image = archived
    url = f"/tasks/{task_id}/thumb.webp?v={image.token}"
    Client().get(url)
    cache.clear()  # what this process checked the token against is kept in it

    with django_assert_num_queries(0):
        response = Client().get(url)

    assert response.status_code == 200 and response["ETag"] == image.etag
    assert cache.get(thumb_cache_key(task_id)) is None  # not asked, so not filled again


def test_a_thumbnail_rebuilt_at_a_new_size_is_what_its_signed_url_serves_after_a_while(
    archived, settings, monkeypatch
):
    task_id, image = archived
    url = f"/tasks/{task_id}/thumb.webp?v={image.token}"
    assert Client().get(url)["ETag"] == image.etag  # remembered by the shared cache and this process
    settings.MJ_THUMB_SIZE = 256
    call_command("archive_images", "--rebuild", stdout=io.StringIO())
    rebuilt = TaskImage.objects.get(pk=image.pk)
    assert rebuilt.token == image.token and rebuilt.etag != image.etag  # the same content, a new file

    assert Client().get(url)["ETag"] == image.etag  # within RECENT_SECONDS: this process's record
    monkeypatch.setattr(middleware, "RECENT_SECONDS", 0.0)
    response = Client().get(url)

    assert response.status_code == 200 and response["ETag"] == rebuilt.etag
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (256, 256)


def test_a_signed_thumbnail_answers_304_to_its_etag(archived, django_assert_num_queries):
    task_id, image = archived
    client = Client()
    client.get(f"/tasks/{task_id}/thumb.webp?v={image.token}")
    with django_assert_num_queries(0):
        response = client.get(f"/tasks/{task_id}/thumb.webp?v={image.token}", HTTP_IF_NONE_MATCH=image.etag)
    assert response.status_code == 304 and response["ETag"] == image.etag


@pytest.mark.parametrize("token", ["", "0" * 32, "é", "x" * 500])
def test_without_the_right_token_an_anonymous_visitor_is_sent_to_log_in(archived, token):
    task_id, _image = archived
    response = Client().get(f"/tasks/{task_id}/thumb.webp", {"v": token} if token else {})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_token_of_another_task_opens_nothing(simulator, archived):
    task_id, image = archived
    other = simulator.add_task(prompt="another", run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[other])
    response = Client().get(f"/tasks/{other}/thumb.webp?v={image.token}")
    assert response.status_code == 302
