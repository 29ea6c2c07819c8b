"""Sets kept in order: a readable default name, tasks added and removed after the
paste, a delete that asks first and can be undone, teammates' links that say
"deleted, restore", a teammate's set on the opener's home page, and every ID the
relay does not know reported."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app import services
from tasks_app.models import SetVisit, TaskSet
from tasks_app.relay import TaskRecord
from tasks_app.sets import services as set_services

pytestmark = pytest.mark.django_db


def _store(n, start=1774000000000000, prompt="a lighthouse at dusk, oil painting --ar 16:9 --v 6", **fields):
    ids = [str(start + i) for i in range(n)]
    services.task_store(records=[TaskRecord(id=i, status="SUCCESS", prompt=prompt, **fields) for i in ids])
    return ids


def test_a_new_set_is_named_by_its_first_prompt_words_and_the_date_not_its_slug(logged_in, jobs_held):
    ids = _store(2, prompt="a lighthouse at dusk, oil painting, storm clouds over the bay --ar 16:9 --v 6")
    url = logged_in.post("/tasks/", {"ids": " ".join(ids)}).url
    page = logged_in.get(url).content.decode()
    task_set = TaskSet.objects.get()
    today = timezone.localdate().isoformat()
    assert task_set.auto_name == f"a lighthouse at dusk, oil painting,… · {today}"
    assert (
        f"<h1>{task_set.auto_name}</h1>" in page and task_set.slug not in re.search(r"<h1>.*</h1>", page)[0]
    )
    assert task_set.auto_name in logged_in.get("/").content.decode()
    logged_in.post(f"/s/{task_set.slug}/rename", {"name": "Harbour"})
    assert "<h1>Harbour</h1>" in logged_in.get(url).content.decode()  # a given name wins


def test_a_chinese_prompt_is_cut_by_characters_and_a_set_with_no_prompt_yet_says_its_count_and_day(
    logged_in, user, jobs_held
):
    ids = _store(
        1,
        start=1774100000000000,
        prompt="一座灯塔在黄昏时分，油画风格，暴风雨中的海湾和远处的帆船，金色的光芒穿过云层照在海面上",
    )
    url = logged_in.post("/tasks/", {"ids": ids[0]}).url
    logged_in.get(url)
    name = TaskSet.objects.get().auto_name
    assert name.startswith("一座灯塔在黄昏时分") and "…" in name and len(name) <= 100
    nameless = TaskSet.objects.create(
        slug="noprompt1", ids=["1774100000000999"], ids_hash="x", created_by=user
    )
    assert nameless.title == f"1 task · {timezone.localdate().isoformat()}"


def test_tasks_are_added_to_a_set_after_the_paste_and_removed_from_it(logged_in, jobs_held):
    ids = _store(4)
    url = logged_in.post("/tasks/", {"ids": " ".join(ids[:2])}).url
    slug = url.split("/")[2]
    added = logged_in.post(f"/s/{slug}/add", {"ids": f"{ids[1]}, {ids[2]}\n{ids[3]} junk"}, follow=True)
    assert "2 tasks added." in added.content.decode()
    assert TaskSet.objects.get().ids == ids
    page = added.content.decode()
    assert all(f'id="task-{i}"' in page for i in ids)

    removed = logged_in.post(
        "/tasks/bulk",
        {"do": "set_remove", "from_set": slug, "ids": [ids[0], ids[2]], "next": url},
        follow=True,
    )
    assert "2 tasks removed from the set." in removed.content.decode()
    assert TaskSet.objects.get().ids == [ids[1], ids[3]]
    assert f'id="task-{ids[0]}"' not in removed.content.decode()


def test_only_the_maker_adds_or_removes_and_an_empty_paste_says_so(logged_in, bob, jobs_held):
    ids = _store(2)
    url = logged_in.post("/tasks/", {"ids": ids[0]}).url
    slug = url.split("/")[2]
    assert bob.post(f"/s/{slug}/add", {"ids": ids[1]}).status_code == 403
    refused = bob.post("/tasks/bulk", {"do": "set_remove", "from_set": slug, "ids": ids[:1]}, follow=True)
    assert "Only the person who made a set may change it." in refused.content.decode()
    empty = logged_in.post(f"/s/{slug}/add", {"ids": "no ids here"}, follow=True)
    assert "No task IDs found in what you pasted." in empty.content.decode()
    assert TaskSet.objects.get().ids == ids[:1]


def test_delete_asks_first_and_is_undone_from_home_or_the_link_a_teammate_holds(logged_in, bob, jobs_held):
    ids = _store(1)
    url = logged_in.post("/tasks/", {"ids": ids[0]}).url
    slug = url.split("/")[2]
    page = logged_in.get(url).content.decode()
    # The delete button is inside a disclosure that asks first.
    confirm = re.search(r'<details class="delete">.*?</details>', page, re.S)[0]
    assert "Delete this set?" in confirm and "Yes, delete this set" in confirm

    gone = logged_in.post(f"/s/{slug}/delete", follow=True)
    assert "deleted. It can be restored from your home page or its link for 30 days." in gone.content.decode()
    home = gone.content.decode()
    assert f'action="/s/{slug}/restore"' in home and "Deleted sets" in home
    assert logged_in.get(f"/s/{slug}/export.csv").status_code == 404  # a deleted set exports nothing

    teammate = bob.get(url)
    assert teammate.status_code == 410
    text = teammate.content.decode()
    assert "This set was deleted by alice." in text and f'action="/s/{slug}/restore"' in text
    restored = bob.post(f"/s/{slug}/restore", follow=True)
    assert restored.status_code == 200 and f'id="task-{ids[0]}"' in restored.content.decode()
    assert TaskSet.objects.get().deleted_at is None


def test_a_deleted_set_is_purged_after_mj_set_purge_days(logged_in, user, settings, jobs_held):
    settings.MJ_SET_PURGE_DAYS = 7
    old = TaskSet.objects.create(slug="oldset01", ids=["1774000000000001"], ids_hash="a", created_by=user)
    set_services.set_delete(task_set=old, user=user)
    TaskSet.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=8))
    assert logged_in.get("/s/oldset01/").status_code == 404  # past its days: gone, not restorable
    assert logged_in.post("/s/oldset01/restore").status_code == 404
    recent = TaskSet.objects.create(slug="newset01", ids=["1774000000000002"], ids_hash="b", created_by=user)
    logged_in.post(f"/s/{recent.slug}/delete")  # each delete purges what is past its days
    assert list(TaskSet.objects.values_list("slug", flat=True)) == ["newset01"]


def test_a_set_opened_from_a_teammates_link_appears_on_the_openers_home_page(logged_in, bob, jobs_held):
    ids = _store(2, start=1774200000000000, prompt="a quiet pier")
    url = logged_in.post("/tasks/", {"ids": " ".join(ids)}).url
    TaskSet.objects.update(name="Piers")
    assert "Piers" not in bob.get("/").content.decode()
    bob.get(url)
    home = bob.get("/").content.decode()
    assert "Piers" in home and "shared by alice" in home
    assert all(f'id="task-{i}"' in home for i in ids)  # "the tasks you open appear here next time"
    assert list(SetVisit.objects.values_list("user__username", flat=True)) == ["bob"]


def test_a_paste_of_ids_the_relay_does_not_know_reports_every_one_not_the_first_100(logged_in, simulator):
    known = [simulator.add_task(run=1.0, queued=0.0) for _ in range(3)]
    unknown = [str(1775000000000000 + i) for i in range(230)]
    pasted = " ".join([known[0], *unknown[:150], known[1], *unknown[150:], known[2]])
    page = logged_in.get(logged_in.post("/tasks/", {"ids": pasted}).url).content.decode()
    listed = re.search(r'<span class="not-found">(.*?)</span>', page, re.S)[1]
    assert "230 IDs not known to the relay" in listed
    assert re.findall(r"<code>(\d+)</code>", listed) == unknown
