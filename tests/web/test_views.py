"""Pages through Django's test client, against the simulator."""

import pytest
from django.urls import reverse

from tasks_app import services
from tasks_app.models import Task, TaskImage
from tasks_app.relay import Button, TaskRecord
from tests.conftest import API_KEY

pytestmark = pytest.mark.django_db


def _finished(simulator, n):
    ids = [simulator.add_task(prompt=f"lighthouse {i}", run=1.0, queued=0.0) for i in range(n)]
    simulator.clock.advance(120)
    return ids


def _assert_no_key(response):
    assert API_KEY.encode() not in response.content


@pytest.mark.parametrize("url", ["/", "/tasks/?ids=1743326750223591", "/tasks/1743326750223591/"])
def test_every_page_requires_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200


def test_home_shows_the_paste_form(logged_in):
    response = logged_in.get("/")
    assert response.status_code == 200
    assert b'name="ids"' in response.content
    _assert_no_key(response)


def test_results_page_shows_each_task(logged_in, simulator):
    ids = _finished(simulator, 3)
    response = logged_in.get("/tasks/", {"ids": ",".join(ids)})
    assert response.status_code == 200
    html = response.content.decode()
    for task_id in ids:
        assert f'id="task-{task_id}"' in html
    assert "U1" in html and "V4" in html
    assert 'class="badge badge-success"' in html
    _assert_no_key(response)


def test_pasted_text_redirects_to_the_canonical_address_with_a_notice(logged_in, simulator):
    ids = _finished(simulator, 2)
    response = logged_in.get("/tasks/", {"ids": f"{ids[0]}\n{ids[1]} 123 {ids[0]}"}, follow=True)
    assert response.redirect_chain[0][0] == f"/tasks/?ids={ids[0]},{ids[1]}"
    html = response.content.decode()
    assert "123" in html and "too short" in html
    assert "1 duplicate" in html


def test_an_htmx_request_gets_only_the_results_and_the_address_to_push(logged_in, simulator):
    ids = _finished(simulator, 2)
    response = logged_in.get("/tasks/", {"ids": " ".join(ids)}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert response["HX-Push-Url"] == f"/tasks/?ids={ids[0]},{ids[1]}"
    assert f'id="task-{ids[0]}"'.encode() in response.content


def test_a_paste_with_no_ids_keeps_the_text_and_says_why(logged_in):
    pasted = "hello 42 world 17433abc26750"
    response = logged_in.get("/tasks/", {"ids": pasted})
    assert response.status_code == 400
    html = response.content.decode()
    assert "No task IDs found" in html
    assert pasted in html  # the textarea keeps what was typed
    assert "too short" in html and "digits only" in html


def test_an_old_link_over_the_cap_takes_the_first_ids_and_says_how_many_were_left_out(logged_in, settings):
    settings.MJ_MAX_IDS = 5
    pasted = " ".join(str(1743000000000000 + i) for i in range(7))
    response = logged_in.get("/tasks/", {"ids": pasted}, follow=True)
    assert response.redirect_chain[0][0].startswith("/s/")
    assert "2 more were left out" in response.content.decode()


def test_unknown_ids_are_listed_as_not_found(logged_in, simulator):
    ids = _finished(simulator, 1)
    response = logged_in.get("/tasks/", {"ids": f"{ids[0]},1000000000000001"})
    html = response.content.decode()
    assert "not known to the relay" in html and "1000000000000001" in html


def test_an_upstream_error_shows_a_banner_over_the_cache(logged_in, simulator):
    task_id = simulator.add_task(run=900.0)
    logged_in.get("/tasks/", {"ids": task_id})
    simulator.set_fault("401", times=5)

    response = logged_in.get("/tasks/", {"ids": task_id})

    html = response.content.decode()
    assert response.status_code == 200
    assert "rejected the API key" in html
    assert "oldest copy is" in html
    assert f'id="task-{task_id}"' in html
    _assert_no_key(response)


def test_the_detail_page_fetches_an_uncached_task(logged_in, simulator):
    task_id = _finished(simulator, 1)[0]
    response = logged_in.get(f"/tasks/{task_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "lighthouse 0" in html and "Raw JSON" in html
    assert simulator.calls["list"] == 1
    _assert_no_key(response)


def test_the_detail_page_of_an_unknown_task_is_404(logged_in, simulator):
    assert logged_in.get("/tasks/1000000000000001/").status_code == 404
    assert logged_in.get("/tasks/not-an-id/").status_code == 404


@pytest.mark.parametrize("count", [10, 200])
def test_the_results_page_query_count_does_not_grow_with_tasks(
    logged_in, django_assert_max_num_queries, count, jobs_held
):
    ids = [str(1750000000000000 + i) for i in range(count)]
    grid_buttons = (Button(custom_id="MJ::JOB::upsample::1::h", label="U1"),)
    services.task_store(
        records=[
            TaskRecord(
                id=i,
                status="SUCCESS",
                progress=100,
                prompt="x",
                buttons=grid_buttons,
                image_url=f"https://cdn.example/{i}.png",
            )
            for i in ids
        ]
    )
    # Every card with an archived image and a parent: what a real page shows.
    TaskImage.objects.filter(task_id__in=ids, index=0).update(
        state="ok", sha256="ab" * 32, thumb="thumbs/x.webp", thumb_width=512, thumb_height=512
    )
    Task.objects.filter(pk__in=ids[1:]).update(parent_id=ids[0], pressed_label="U1")
    url = logged_in.post("/tasks/", {"ids": ",".join(ids)}).url
    # session, user, set, children, tasks, images, 2 permission reads, the viewer's
    # stars and the cards' tags, the visit, the default name, the viewer's sets and
    # the team's tags (the selection form), unknown IDs past the first page: none per card
    with django_assert_max_num_queries(17):
        response = logged_in.get(url)
    assert response.status_code == 200
    # A set's page shows its first 100 cards (the rest as one scrolls) and counts them all.
    assert response.content.count(b'class="card ') == min(count, 100)
    assert f"{count} tasks".encode() in response.content


def test_the_page_language_follows_the_browser(logged_in):
    response = logged_in.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-hans">' in response.content.decode()


def test_an_htmx_request_after_the_session_ended_sends_the_whole_page_to_login(client):
    response = client.get(
        "/tasks/poll",
        {"ids": "1743326750223591:x"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/tasks/?ids=1743326750223591"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/tasks/%3Fids%3D1743326750223591"


def test_statuses_read_in_the_page_language_and_unknown_ones_as_sent(logged_in):
    services.task_store(
        records=[
            TaskRecord(id="1750000000000901", status="SUCCESS"),
            TaskRecord(id="1750000000000902", status="PAUSED"),
        ]
    )
    ids = {"ids": "1750000000000901,1750000000000902"}
    english = logged_in.get("/tasks/", ids).content.decode()
    chinese = logged_in.get("/tasks/", ids, headers={"Accept-Language": "zh-CN"}).content.decode()
    assert ">Success</span>" in english and ">PAUSED</span>" in english
    assert ">成功</span>" in chinese and ">PAUSED</span>" in chinese
