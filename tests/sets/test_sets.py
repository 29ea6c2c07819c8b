"""Sets: a paste saved as a short link, reused, renamed, deleted; long old links; the posted poller."""

import logging

import pytest
from django.test import Client

from tasks_app import services
from tasks_app.models import TaskSet
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db


def _finished(simulator, n):
    ids = [simulator.add_task(prompt=f"harbour {i}", run=1.0, queued=0.0) for i in range(n)]
    simulator.clock.advance(120)
    return ids


def test_a_paste_is_posted_saved_as_a_set_and_redirects_to_its_short_link(logged_in, simulator, caplog):
    ids = _finished(simulator, 2)
    caplog.set_level(logging.DEBUG)
    pasted = f'curl -H \'Authorization: Bearer sk-secret42\' --data \'{{"ids":["{ids[0]}","{ids[1]}"]}}\''
    response = logged_in.post("/tasks/", {"ids": pasted})
    task_set = TaskSet.objects.get()
    assert response.status_code == 302
    assert response.url == f"/s/{task_set.slug}/"
    assert task_set.ids == ids
    assert len(task_set.slug) >= 10
    page = logged_in.get(response.url)
    html = page.content.decode()
    for task_id in ids:
        assert f'id="task-{task_id}"' in html
    assert "sk-secret42" not in html and "sk-secret42" not in response.url
    assert "sk-secret42" not in caplog.text
    assert "1 token(s) were not task IDs" in html


def test_the_same_ids_pasted_again_by_the_same_person_reuse_the_set(logged_in, simulator):
    ids = _finished(simulator, 2)
    first = logged_in.post("/tasks/", {"ids": " ".join(ids)})
    second = logged_in.post("/tasks/", {"ids": "\n".join(ids)})
    assert first.url == second.url
    assert TaskSet.objects.count() == 1
    logged_in.post("/tasks/", {"ids": " ".join(reversed(ids))})
    assert TaskSet.objects.count() == 2


def test_an_htmx_paste_sends_the_page_to_the_set(logged_in, simulator):
    ids = _finished(simulator, 1)
    response = logged_in.post("/tasks/", {"ids": ids[0]}, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == f"/s/{TaskSet.objects.get().slug}/"


def test_over_the_cap_the_first_ids_are_taken_and_the_page_says_how_many_were_left_out(logged_in, settings):
    settings.MJ_MAX_IDS = 5
    pasted = " ".join(str(1743000000000000 + i) for i in range(7))
    services.task_store(
        records=[TaskRecord(id=str(1743000000000000 + i), status="SUCCESS") for i in range(7)]
    )
    response = logged_in.post("/tasks/", {"ids": pasted}, follow=True)
    assert TaskSet.objects.get().ids == [str(1743000000000000 + i) for i in range(5)]
    assert "2 more were left out" in response.content.decode()


def test_a_long_old_link_redirects_to_a_saved_set_and_a_short_one_still_renders(logged_in):
    ids = [str(1743000000000000 + i) for i in range(60)]
    services.task_store(records=[TaskRecord(id=i, status="SUCCESS") for i in ids])
    long_link = logged_in.get("/tasks/", {"ids": ",".join(ids)})
    assert long_link.status_code == 302 and long_link.url.startswith("/s/")
    short_link = logged_in.get("/tasks/", {"ids": ",".join(ids[:3])})
    assert short_link.status_code == 200
    assert short_link.content.count(b'class="card ') == 3


def test_another_user_sees_the_set_but_only_its_maker_may_rename_or_delete_it(logged_in, django_user_model):
    services.task_store(records=[TaskRecord(id="1743000000000001", status="SUCCESS")])
    url = logged_in.post("/tasks/", {"ids": "1743000000000001"}).url
    slug = TaskSet.objects.get().slug
    other = django_user_model.objects.create_user("other", password="pw-other-123")
    client = Client()
    client.force_login(other)
    page = client.get(url)
    assert page.status_code == 200 and b'id="task-1743000000000001"' in page.content
    assert b"Delete set" not in page.content
    assert client.post(f"/s/{slug}/rename", {"name": "mine"}).status_code == 403
    assert client.post(f"/s/{slug}/delete").status_code == 403

    logged_in.post(f"/s/{slug}/rename", {"name": "Harbour shots"})
    assert "Harbour shots" in logged_in.get(url).content.decode()
    assert logged_in.post(f"/s/{slug}/delete").status_code == 302
    # Deleted softly: the link says so (and offers a restore) until it is purged.
    assert TaskSet.objects.get().deleted_at is not None
    assert logged_in.get(url).status_code == 410


def test_an_unknown_slug_is_404(logged_in):
    assert logged_in.get("/s/nope-nope/").status_code == 404


def test_the_poller_posts_its_ids_so_500_unfinished_tasks_poll_in_one_request(logged_in, simulator, settings):
    settings.MJ_MAX_IDS = 500
    ids = [simulator.add_task(run=900.0) for _ in range(500)]
    url = logged_in.post("/tasks/", {"ids": " ".join(ids)}).url
    page = logged_in.get(url).content.decode()
    assert 'hx-post="/tasks/poll"' in page
    calls = simulator.calls["list"]
    response = logged_in.post("/tasks/poll", {"ids": ",".join(f"{i}:old" for i in ids)})
    assert response.status_code == 200
    assert response.content.count(b'hx-swap-oob="true"') >= 500
    assert simulator.calls["list"] - calls <= 5  # batched by MJ_BATCH_SIZE


def test_home_lists_the_users_recent_sets_and_their_tasks_from_the_database(logged_in, user):
    services.task_store(records=[TaskRecord(id="1743000000000007", status="SUCCESS", prompt="a quiet pier")])
    logged_in.post("/tasks/", {"ids": "1743000000000007"})
    TaskSet.objects.update(name="Piers")
    logged_in.logout()
    client = Client()
    client.force_login(user)  # a new session: nothing kept in the old one
    html = client.get("/").content.decode()
    assert "Piers" in html
    assert 'id="task-1743000000000007"' in html
