"""Stars (each person's own) and tags (the team's) on a card and the detail page,
and the archive filtered by them, with counts."""

import re

import pytest

from tasks_app import services
from tasks_app.models import Star, Tag, Task, TaskSet, TaskTag
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db

CARD_RE = re.compile(r'<article class="card[^"]*" id="task-(\d+)"')


def _store(n, start=1770000000000000, **fields):
    ids = [str(start + i) for i in range(n)]
    services.task_store(
        records=[TaskRecord(id=i, status="SUCCESS", prompt=f"kite {i}", **fields) for i in ids]
    )
    return ids


def test_a_star_is_the_persons_own_and_shows_on_the_card_and_the_detail_page(logged_in, bob, jobs_held):
    [task_id] = _store(1)
    answer = logged_in.post(f"/tasks/{task_id}/star", {"star": "1"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and answer["HX-Retarget"] == f"#marks-{task_id}"
    assert 'aria-pressed="true"' in answer.content.decode() and 'value="0"' in answer.content.decode()

    mine = logged_in.get(f"/tasks/?ids={task_id}").content.decode()
    assert re.search(
        r'<button formaction="[^"]*/star" name="star" value="0" class="star starred" data-star', mine
    )
    assert 'data-star aria-pressed="true"' in logged_in.get(f"/tasks/{task_id}/").content.decode()
    theirs = bob.get(f"/tasks/?ids={task_id}").content.decode()
    assert 'data-star aria-pressed="false"' in theirs  # bob has not starred it

    logged_in.post(f"/tasks/{task_id}/star", {"star": "0"})
    assert not Star.objects.exists()


def test_a_plain_post_goes_back_where_it_came_from(logged_in, jobs_held):
    [task_id] = _store(1)
    response = logged_in.post(f"/tasks/{task_id}/star", {"star": "1"}, headers={"Referer": "/tasks/?tag=x"})
    assert response.status_code == 302 and response.url == "/tasks/?tag=x"
    away = logged_in.post(f"/tasks/{task_id}/star", headers={"Referer": "https://evil.example/"})
    assert away.url == f"/tasks/{task_id}/"


def test_tags_are_shared_by_the_team_whatever_their_case_and_come_off_one_at_a_time(
    logged_in, bob, jobs_held
):
    first, second = _store(2)
    logged_in.post(f"/tasks/{first}/tags", {"tag": " Night sky ,猫，  "})
    bob.post(f"/tasks/{second}/tags", {"tag": "night SKY"})
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Night sky", "猫"]  # one tag, two tasks
    assert TaskTag.objects.filter(tag__key="night sky").count() == 2

    card = bob.get(f"/tasks/?ids={first}").content.decode()
    assert '<a href="/tasks/?tag=Night%20sky">Night sky</a>' in card and ">猫</a>" in card
    answer = bob.post(f"/tasks/{first}/tags", {"remove": "NIGHT SKY"}, headers={"HX-Request": "true"})
    assert "Night sky" not in answer.content.decode() and "猫" in answer.content.decode()
    assert TaskTag.objects.filter(task_id=second).count() == 1  # the other task keeps it


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "Type a tag name."), (" , ，", "Type a tag name."), ("x" * 41, "A tag is at most 40 characters")],
)
def test_a_bad_tag_is_refused_with_a_message_and_nothing_is_stored(logged_in, jobs_held, typed, message):
    [task_id] = _store(1)
    answer = logged_in.post(f"/tasks/{task_id}/tags", {"tag": typed}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and message in answer.content.decode()
    assert 'role="alert"' in answer.content.decode()
    plain = logged_in.post(f"/tasks/{task_id}/tags", {"tag": typed}, follow=True)
    assert message in plain.content.decode()
    assert not Tag.objects.exists() and not TaskTag.objects.exists()


def test_control_characters_and_nul_never_reach_a_tag(logged_in, jobs_held):
    [task_id] = _store(1)
    logged_in.post(f"/tasks/{task_id}/tags", {"tag": "sun\x00set\u202e\ttime"})
    assert list(Tag.objects.values_list("name", flat=True)) == ["sunset time"]  # NUL removed, the rest spaces


def test_a_star_or_tag_of_a_task_never_stored_is_404_and_stores_nothing(logged_in):
    assert logged_in.post("/tasks/1771000000000000/star").status_code == 404
    assert logged_in.post("/tasks/1771000000000000/tags", {"tag": "x"}).status_code == 404
    assert not Star.objects.exists() and not TaskTag.objects.exists()


def test_the_archive_filters_by_starred_tag_person_and_set_and_shows_counts(logged_in, user, bob, jobs_held):
    ids = _store(5)
    logged_in.post("/tasks/bulk", {"do": "star", "ids": ids[:2]})
    bob.post("/tasks/bulk", {"do": "star", "ids": ids[4:]})  # bob's star is not alice's
    logged_in.post("/tasks/bulk", {"do": "tag", "ids": ids[1:4], "tag": "kites"})
    Task.objects.filter(pk=ids[3]).update(pressed_by=user)
    TaskSet.objects.create(slug="kiteset1", ids=ids[2:], ids_hash="x", created_by=user, name="Kites")

    def cards(**params):
        return CARD_RE.findall(logged_in.get("/tasks/", params).content.decode())

    assert cards(starred="on") == [ids[1], ids[0]]
    assert cards(tag="KITES") == [ids[3], ids[2], ids[1]]
    assert cards(starred="on", tag="kites") == [ids[1]]
    assert cards(pressed_by="alice") == [ids[3]]
    assert cards(set="kiteset1", tag="kites") == [ids[3], ids[2]]
    page = logged_in.get("/tasks/").content.decode()
    assert "Starred by me (2)" in page
    assert '<option value="kites">kites (3)</option>' in page
    assert '<option value="alice">alice (1)</option>' in page
    assert '<option value="kiteset1">Kites (3)</option>' in page
    chinese = logged_in.get("/tasks/", headers={"Accept-Language": "zh-CN"}).content.decode()
    assert "我加星标的 (2)" in chinese


def test_a_link_to_a_tag_or_person_no_one_has_still_shows_what_it_asks_and_bad_dates_drop_only_themselves(
    logged_in, jobs_held
):
    ids = _store(2)
    logged_in.post("/tasks/bulk", {"do": "tag", "ids": ids[:1], "tag": "kites"})
    page = logged_in.get("/tasks/", {"tag": "kites", "submitted_from": "not-a-date"}).content.decode()
    assert CARD_RE.findall(page) == [ids[0]]  # the bad date is dropped, the tag still filters
    gone = logged_in.get("/tasks/", {"tag": "nobody-has-this"}).content.decode()
    assert '<option value="nobody-has-this" selected>nobody-has-this</option>' in gone
    assert "No task matches these filters." in gone
