"""The archive: /tasks/ without IDs lists every task seen, newest first, filtered, by keyset pages."""

import re
from datetime import UTC, datetime

import pytest

from tasks_app import services
from tasks_app.gallery import selectors as gallery
from tasks_app.models import Task, TaskImage, TaskSet
from tasks_app.relay import Button, TaskRecord

pytestmark = pytest.mark.django_db

CARD_RE = re.compile(r'<article class="card[^"]*" id="task-(\d+)"')


def _store(n, start=1760000000000000, **fields):
    ids = [str(start + i) for i in range(n)]
    services.task_store(records=[TaskRecord(id=i, **fields) for i in ids])
    return ids


def _cards(response) -> list[str]:
    return CARD_RE.findall(response.content.decode())


def test_the_archive_lists_every_task_newest_first_by_keyset_pages(logged_in, jobs_held):
    ids = _store(gallery.PAGE_SIZE + 12, status="SUCCESS")
    first = logged_in.get("/tasks/")
    assert first.status_code == 200
    assert _cards(first) == sorted(ids, reverse=True)[: gallery.PAGE_SIZE]
    older = re.search(r'href="([^"]*before=[^"]*)"', first.content.decode()).group(1).replace("&amp;", "&")
    second = logged_in.get(older)
    assert _cards(second) == sorted(ids, reverse=True)[gallery.PAGE_SIZE :]
    assert (
        "before=" not in re.sub(r'class="newest"[^>]*', "", second.content.decode()).split('class="pager"')[1]
    )


def test_a_malformed_cursor_shows_the_first_page(logged_in, jobs_held):
    ids = _store(3, status="SUCCESS")
    assert _cards(logged_in.get("/tasks/", {"before": "not-a-cursor!"})) == sorted(ids, reverse=True)


def test_filters_by_status_action_dates_set_and_who_pressed_live_in_the_url(logged_in, user, jobs_held):
    may = datetime(2026, 5, 3, 12, tzinfo=UTC)
    june = datetime(2026, 6, 9, 12, tzinfo=UTC)
    done = _store(2, start=1761000000000000, status="SUCCESS", action="IMAGINE", submit_time=may)
    failed = _store(1, start=1762000000000000, status="FAILURE", action="UPSCALE", submit_time=june)
    Task.objects.filter(pk=failed[0]).update(pressed_by=user)
    TaskSet.objects.create(slug="s3tslug", ids=[done[1], failed[0]], ids_hash="x", created_by=user)

    assert _cards(logged_in.get("/tasks/", {"status": "FAILURE"})) == failed
    assert _cards(logged_in.get("/tasks/", {"action": "IMAGINE"})) == sorted(done, reverse=True)
    assert _cards(logged_in.get("/tasks/", {"submitted_from": "2026-06-01"})) == failed
    assert _cards(logged_in.get("/tasks/", {"submitted_to": "2026-05-03"})) == sorted(done, reverse=True)
    assert _cards(logged_in.get("/tasks/", {"set": "s3tslug"})) == [failed[0], done[1]]
    assert _cards(logged_in.get("/tasks/", {"pressed_by": user.username})) == failed
    assert _cards(logged_in.get("/tasks/", {"status": "SUCCESS", "set": "s3tslug"})) == [done[1]]


def test_the_search_finds_a_word_of_the_prompt_the_english_prompt_or_the_final_prompt(logged_in, jobs_held):
    services.task_store(
        records=[
            TaskRecord(id="1763000000000001", status="SUCCESS", prompt="a lighthouse at dusk"),
            TaskRecord(id="1763000000000002", status="SUCCESS", prompt="一只猫", prompt_en="a small cat"),
            TaskRecord(
                id="1763000000000003", status="SUCCESS", prompt="x", properties={"finalPrompt": "harbour fog"}
            ),
            TaskRecord(id="1763000000000004", status="SUCCESS", prompt="a red fox"),
        ]
    )
    assert _cards(logged_in.get("/tasks/", {"q": "lighthouse"})) == ["1763000000000001"]
    assert _cards(logged_in.get("/tasks/", {"q": "cat"})) == ["1763000000000002"]
    assert _cards(logged_in.get("/tasks/", {"q": "harbour"})) == ["1763000000000003"]


def test_a_filter_that_matches_nothing_says_so(logged_in, jobs_held):
    _store(2, status="SUCCESS")
    html = logged_in.get("/tasks/", {"q": "zeppelin"}).content.decode()
    assert "No task matches these filters." in html
    assert _cards(logged_in.get("/tasks/", {"status": "CANCEL"})) == []


@pytest.mark.parametrize("count", [10, 200])
def test_the_archive_query_count_does_not_grow_with_tasks(
    logged_in, django_assert_max_num_queries, count, jobs_held
):
    ids = _store(
        count,
        status="SUCCESS",
        prompt="a lighthouse",
        image_url="https://cdn.example/x.png",
        buttons=(Button(custom_id="MJ::JOB::upsample::1::h", label="U1"),),
    )
    TaskImage.objects.filter(task_id__in=ids, index=0).update(
        state="ok", sha256="ab" * 32, thumb="thumbs/x.webp", thumb_width=512, thumb_height=512
    )
    Task.objects.filter(pk__in=ids[1:]).update(parent_id=ids[0], pressed_label="U1")
    # session, user, tasks, images, 2 permission reads, the counts beside the filters
    # (the viewer's stars, tags, who pressed, their sets, sets they opened), the
    # viewer's stars and the cards' tags: none per card
    with django_assert_max_num_queries(13):
        response = logged_in.get("/tasks/", {"q": "lighthouse", "status": "SUCCESS"})
    assert len(_cards(response)) == min(count, gallery.PAGE_SIZE)


def test_the_archive_speaks_chinese_too(logged_in):
    html = logged_in.get("/tasks/", {"q": "zeppelin"}, headers={"Accept-Language": "zh-CN"}).content.decode()
    assert "归档" in html and "没有符合这些筛选条件的任务。" in html and "搜索提示词" in html
