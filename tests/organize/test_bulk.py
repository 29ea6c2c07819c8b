"""Actions on a selection (POST /tasks/bulk): star, tag, add to or remove from a
set, export and ZIP; and the query count of pages full of stars and tags."""

import csv
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tasks_app import services
from tasks_app.models import Star, Task, TaskImage, TaskSet, TaskTag
from tasks_app.organize import services as organize
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db


def _store(n, start=1772000000000000, **fields):
    ids = [str(start + i) for i in range(n)]
    services.task_store(
        records=[TaskRecord(id=i, status="SUCCESS", prompt=f"gull {i}", **fields) for i in ids]
    )
    return ids


def _message(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_star_unstar_tag_and_untag_a_selection_and_say_how_many(logged_in, user, jobs_held):
    ids = _store(3)
    starred = logged_in.post("/tasks/bulk", {"do": "star", "ids": ids, "next": "/tasks/"}, follow=True)
    assert "Starred 3 tasks." in _message(starred)
    assert set(Star.objects.filter(user=user).values_list("task_id", flat=True)) == set(ids)
    again = logged_in.post("/tasks/bulk", {"do": "star", "ids": ids[:1]}, follow=True)
    assert "Starred 0 tasks." in _message(again)  # already starred: nothing doubled

    tagged = logged_in.post("/tasks/bulk", {"do": "tag", "ids": ids, "tag": "sea, birds"}, follow=True)
    assert "6 tags added." in _message(tagged) and TaskTag.objects.count() == 6
    untagged = logged_in.post("/tasks/bulk", {"do": "untag", "ids": ids[:2], "tag": "sea"}, follow=True)
    assert "2 tags removed." in _message(untagged) and TaskTag.objects.count() == 4

    logged_in.post("/tasks/bulk", {"do": "unstar", "ids": ids[1:]})
    assert list(Star.objects.values_list("task_id", flat=True)) == [ids[0]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"do": "star"}, "Select at least one task first."),
        ({"do": "star", "ids": ["not-an-id", "12"]}, "Select at least one task first."),
        ({"do": "explode", "ids": ["1772000000000000"]}, "Choose what to do with the selected tasks."),
        ({"do": "tag", "ids": ["1772000000000000"], "tag": ""}, "Type a tag name."),
        ({"do": "set_add", "ids": ["1772000000000000"], "to_set": "nosuchset"}, "Choose one of your sets."),
    ],
)
def test_a_bad_selection_or_action_says_why_and_changes_nothing(logged_in, jobs_held, data, message):
    _store(1)
    response = logged_in.post("/tasks/bulk", data, follow=True)
    assert message in _message(response)
    assert not Star.objects.exists() and not TaskTag.objects.exists() and not TaskSet.objects.exists()


def test_more_than_a_set_can_hold_is_refused(logged_in, settings, jobs_held):
    settings.MJ_MAX_IDS = 2
    ids = _store(3)
    response = logged_in.post("/tasks/bulk", {"do": "star", "ids": ids}, follow=True)
    assert "At most 2 tasks at once." in _message(response) and not Star.objects.exists()


def test_a_selection_goes_to_a_new_set_or_one_of_mine_never_a_teammates(
    logged_in, user, django_user_model, jobs_held
):
    ids = _store(4)
    response = logged_in.post("/tasks/bulk", {"do": "set_add", "ids": ids[:2], "to_set": "new"})
    made = TaskSet.objects.get()
    assert response.url == f"/s/{made.slug}/" and made.ids == ids[:2] and made.created_by == user

    logged_in.post("/tasks/bulk", {"do": "set_add", "ids": [ids[1], ids[3], ids[2]], "to_set": made.slug})
    made.refresh_from_db()
    assert made.ids == [ids[0], ids[1], ids[3], ids[2]]  # appended in selection order, none twice

    bob = django_user_model.objects.create_user("bob", password="bob-pass-123")
    theirs = TaskSet.objects.create(slug="bobsset1", ids=[ids[0]], ids_hash="x", created_by=bob)
    refused = logged_in.post("/tasks/bulk", {"do": "set_add", "ids": ids, "to_set": theirs.slug}, follow=True)
    assert "Only the person who made a set may change it." in _message(refused)
    theirs.refresh_from_db()
    assert theirs.ids == [ids[0]]


def test_a_set_holds_at_most_mj_max_ids_and_says_how_many_did_not_fit(logged_in, user, settings, jobs_held):
    settings.MJ_MAX_IDS = 3
    ids = _store(3, start=1772100000000000)
    task_set = TaskSet.objects.create(slug="fullset1", ids=ids[:2], ids_hash="x", created_by=user)
    extra = _store(2, start=1772200000000000)
    response = logged_in.post(
        "/tasks/bulk", {"do": "set_add", "ids": extra, "to_set": "fullset1"}, follow=True
    )
    assert "1 did not fit: a set holds at most 3." in _message(response)
    task_set.refresh_from_db()
    assert task_set.ids == [*ids[:2], extra[0]]


def test_a_selection_exports_as_csv_json_and_zip_in_selection_order(logged_in, jobs_held):
    ids = _store(3, image_url="https://cdn.example/g.png")
    for task_id in ids[:2]:
        name = default_storage.save(f"originals/{task_id}.png", ContentFile(b"\x89PNG " + task_id.encode()))
        TaskImage.objects.update_or_create(
            task_id=task_id,
            index=0,
            defaults={"state": "ok", "original": name, "content_type": "image/png", "source_url": "x"},
        )
    chosen = [ids[2], ids[0]]
    answer = logged_in.post("/tasks/bulk", {"do": "csv", "ids": chosen})
    assert answer["Content-Disposition"] == 'attachment; filename="mjdash-selection.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert [row["id"] for row in rows] == chosen
    payloads = json.loads(
        b"".join(logged_in.post("/tasks/bulk", {"do": "json", "ids": chosen}).streaming_content)
    )
    assert [p["id"] for p in payloads] == chosen
    archive = logged_in.post("/tasks/bulk", {"do": "zip", "ids": chosen})
    names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    assert names == [f"{ids[0]}-gull-{ids[0]}.png"]  # the third has no archived original


def test_the_set_page_and_the_archive_read_stars_and_tags_in_flat_queries(
    logged_in, user, django_assert_max_num_queries, settings, jobs_held
):
    """500 cards, each starred and carrying three tags, cost what 10 plain ones do."""
    settings.MJ_SET_PAGE_CARDS = 500
    plain = _store(10, start=1773000000000000)
    marked = _store(500, start=1773100000000000)
    organize.tasks_star(user=user, ids=marked)
    organize.tags_add(user=user, ids=marked, names=["sea", "birds", "dusk"])
    organize.tags_add(user=user, ids=plain, names=["plain"])
    small = TaskSet.objects.create(slug="plain10", ids=plain, ids_hash="a", created_by=user)
    large = TaskSet.objects.create(slug="marked500", ids=marked, ids_hash="b", created_by=user)
    logged_in.get(f"/s/{small.slug}/")  # its visit and default name are written once
    logged_in.get(f"/s/{large.slug}/")

    def queries(url) -> int:
        with django_assert_max_num_queries(100) as captured:
            response = logged_in.get(url)
        assert response.status_code == 200
        return len(captured.captured_queries), response.content.decode()

    few, _ = queries(f"/s/{small.slug}/")
    many, page = queries(f"/s/{large.slug}/")
    assert page.count('data-star aria-pressed="true"') == 500 and page.count(">dusk</a>") == 500
    assert many == few
    archive_few, _ = queries("/tasks/?tag=plain")
    archive_many, archive = queries("/tasks/?tag=sea")
    assert archive.count('class="star starred"') == 48 and archive_many == archive_few


def test_a_poll_answer_of_500_changed_starred_cards_reads_their_marks_in_two_queries(
    logged_in, user, simulator, django_assert_max_num_queries
):
    running = [simulator.add_task(run=900.0) for _ in range(500)]
    services.task_lookup(ids=running)
    organize.tasks_star(user=user, ids=running)
    organize.tags_add(user=user, ids=running, names=["slow"])
    with django_assert_max_num_queries(100) as captured:
        answer = logged_in.post("/tasks/poll", {"ids": ",".join(f"{i}:old" for i in running)})
    text = answer.content.decode()
    assert text.count('class="star starred"') == 500 and text.count(">slow</a>") == 500
    marks = [
        q["sql"] for q in captured.captured_queries if "tasks_app_star" in q["sql"] or "tasktag" in q["sql"]
    ]
    assert len(marks) == 2


def test_a_task_gone_from_the_dashboard_is_left_out_of_a_selection(logged_in, jobs_held):
    ids = _store(2)
    Task.objects.filter(pk=ids[0]).delete()
    response = logged_in.post("/tasks/bulk", {"do": "star", "ids": ids}, follow=True)
    assert "Starred 1 task." in _message(response)
