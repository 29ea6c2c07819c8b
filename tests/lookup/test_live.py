"""Live progress: one poller per page, shared freshness, backoff, stalls, refresh."""

import html
import json
import re
import threading
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tasks_app import services
from tasks_app.models import Task
from tasks_app.relay import TaskRecord
from tasks_app.templatetags.live import duration

pytestmark = pytest.mark.django_db

STAMP_RE = re.compile(r'data-poll-id="(\d+)" data-poll-stamp="(\w+)"')


def _poller(content: bytes) -> dict:
    """What a page's poller sends (as static/js/poller.js does: the page's live
    cards with their stamps) and its trigger; of a poll answer, only the trigger
    and values (its ids are the answer's changed live cards: see _next)."""
    text = content.decode()
    element = re.search(r'<div id="poller"[^>]*>', text).group(0)
    vals = json.loads(html.unescape(re.search(r'hx-vals="([^"]*)"', element).group(1)))
    vals["trigger"] = re.search(r'hx-trigger="([^"]*)"', element).group(1)
    vals["ids"] = ",".join(f"{i}:{stamp}" for i, stamp in dict(STAMP_RE.findall(text)).items())
    return vals


LIVE_ELEMENT_RE = re.compile(r'<(?:article|div) class="(?:card|live)[^"]*" id="(?:task|live)-(\d+)"([^>]*)>')


def _next(vals: dict, answer) -> dict:
    """What the page sends next after this answer: the cards it swapped in
    replace theirs (a card no longer live leaves the list), the rest stay."""
    stamps = dict(entry.split(":") for entry in vals["ids"].split(",") if entry)
    for task_id, attributes in LIVE_ELEMENT_RE.findall(answer.content.decode()):
        found = re.search(r'data-poll-stamp="(\w+)"', attributes)
        if found:
            stamps[task_id] = found.group(1)
        else:
            stamps.pop(task_id, None)
    following = _poller(answer.content)
    following["ids"] = ",".join(f"{i}:{stamp}" for i, stamp in stamps.items())
    return following


def _poll(client, vals: dict):
    params = {k: v for k, v in vals.items() if k in ("ids", "failures", "main")}
    return client.get("/tasks/poll", params)


def _oob_cards(content: bytes) -> list[str]:
    return re.findall(r'<article class="card[^"]*" id="task-(\d+)"[^>]*hx-swap-oob="true"', content.decode())


def test_the_poller_answer_holds_only_changed_cards_and_ends_with_286(logged_in, simulator):
    moving = simulator.add_task(queued=0.0, run=100.0)
    pinned = simulator.add_task(status="IN_PROGRESS", ago=20, run=100.0)
    done = simulator.add_task(queued=0.0, run=1.0, ago=60)
    simulator.clock.advance(10)
    # Their progress previews first: a preview arriving is a change of its own (images/previews.py).
    services.task_lookup(ids=[moving, pinned])
    page = logged_in.get("/tasks/", {"ids": f"{moving},{pinned},{done}"})
    vals = _poller(page.content)
    assert {entry.split(":")[0] for entry in vals["ids"].split(",")} == {moving, pinned}
    assert vals["trigger"] == "every 3000ms, mjdash:poll"

    simulator.clock.advance(10)
    answer = _poll(logged_in, vals)

    assert answer.status_code == 200
    assert _oob_cards(answer.content) == [moving]  # the pinned task did not change
    assert b'<div id="upstream-banner" class="banner-slot" hx-swap-oob="true">' in answer.content
    assert b"<html" not in answer.content
    vals = _next(vals, answer)

    nothing = _poll(logged_in, vals)
    assert nothing.status_code == 200 and _oob_cards(nothing.content) == []

    simulator.clock.advance(200)
    simulator.task(pinned).pinned = "CANCEL"
    last = _poll(logged_in, _next(vals, nothing))

    assert last.status_code == 286
    assert sorted(_oob_cards(last.content)) == sorted([moving, pinned])
    assert "SUCCESS" in last.content.decode() and "CANCEL" in last.content.decode()
    assert _poller(last.content)["trigger"] == "mjdash:poll"  # no time trigger: quiet


def test_a_page_of_200_cards_with_3_running_costs_one_call_about_those_3(logged_in, simulator, settings):
    settings.MJ_SET_PAGE_CARDS = 200  # all on one page
    finished = [str(1750000000000000 + i) for i in range(197)]
    services.task_store(records=[TaskRecord(id=i, status="SUCCESS", progress=100) for i in finished])
    running = [simulator.add_task(queued=0.0, run=100.0) for _ in range(3)]
    simulator.clock.advance(5)
    page = logged_in.get("/tasks/", {"ids": ",".join(finished[:100] + running + finished[100:])}, follow=True)
    assert page.content.count(b'class="card ') == 200
    vals = _poller(page.content)
    simulator.reset_counters()
    simulator.clock.advance(5)

    answer = _poll(logged_in, vals)

    assert simulator.calls["list"] == 1
    assert sorted(simulator.list_batches[0]) == sorted(running)
    assert sorted(_oob_cards(answer.content)) == sorted(running)


def test_ten_viewers_of_one_running_task_cost_one_upstream_call_per_window(
    transactional_db, simulator, settings, user
):
    settings.MJ_FRESHNESS_SECONDS = 1
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(5)
    services.task_lookup(ids=[task_id])
    stamp = Task.objects.get(id=task_id).card_stamp
    clients = []
    for _ in range(10):
        client = Client()
        client.force_login(user)
        clients.append(client)

    def burst():
        Task.objects.filter(id=task_id).update(last_fetched=timezone.now() - timedelta(seconds=5))
        barrier = threading.Barrier(len(clients))
        statuses = []

        def viewer(client):
            barrier.wait(timeout=30)
            response = client.get("/tasks/poll", {"ids": f"{task_id}:{stamp}"})
            statuses.append(response.status_code)

        threads = [threading.Thread(target=viewer, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a viewer did not end within 30 s"
        return statuses

    simulator.reset_counters()
    assert burst() == [200] * 10
    assert simulator.calls["list"] == 1

    assert burst() == [200] * 10  # same window: the claim in the cache holds
    assert simulator.calls["list"] == 1

    services.cache.delete(f"mjdash:fresh:{task_id}")  # the window ran out
    burst()
    assert simulator.calls["list"] == 2


def test_the_detail_lookup_respects_the_shared_window_too(simulator, settings):
    settings.MJ_FRESHNESS_SECONDS = 30
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(5)
    services.task_lookup(ids=[task_id])
    simulator.reset_counters()

    for _ in range(5):
        services.task_lookup(ids=[task_id])
    assert simulator.calls["list"] == 0
    services.task_lookup(ids=[task_id], force=True)
    assert simulator.calls["list"] == 1


def test_polling_backs_off_while_the_relay_fails_and_recovers_after(logged_in, simulator):
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(5)
    vals = _poller(logged_in.get("/tasks/", {"ids": task_id}).content)
    simulator.set_fault("500", times=1000)

    seen = []
    for _ in range(5):
        answer = _poll(logged_in, vals)
        assert answer.status_code == 200
        vals = _next(vals, answer)
        seen.append(vals["trigger"])
    assert seen == [
        "every 6000ms, mjdash:poll",
        "every 12000ms, mjdash:poll",
        "every 24000ms, mjdash:poll",
        "every 30000ms, mjdash:poll",
        "every 30000ms, mjdash:poll",
    ]
    text = answer.content.decode()
    assert 'id="upstream-banner"' in text and "unreachable or failing" in text
    assert "Asking again in 30 s." in text

    simulator.clear_faults()
    answer = _poll(logged_in, vals)
    vals = _next(vals, answer)
    assert vals["trigger"] == "every 3000ms, mjdash:poll" and vals["failures"] == 0
    assert b'role="alert"' not in answer.content  # the banner is emptied


def test_a_task_unchanged_for_long_is_stalled_and_asked_less_often(logged_in, simulator, settings):
    task_id = simulator.add_task(status="IN_PROGRESS", ago=20, run=100.0)
    services.task_lookup(ids=[task_id])
    Task.objects.filter(id=task_id).update(changed_at=timezone.now() - timedelta(minutes=11))
    simulator.reset_counters()

    page = logged_in.get("/tasks/", {"ids": task_id})

    assert simulator.calls["list"] == 0  # fetched moments ago; stalled ones wait MJ_STALL_POLL_SECONDS
    text = page.content.decode()
    assert "stalled for 11 min" in text and 'class="card status-in_progress is-stalled"' in text
    assert _poller(page.content)["trigger"] == "every 30000ms, mjdash:poll"

    Task.objects.filter(id=task_id).update(last_fetched=timezone.now() - timedelta(seconds=31))
    simulator.clock.advance(3600)
    services.task_lookup(ids=[task_id])
    assert simulator.calls["list"] == 1
    task = Task.objects.get(id=task_id)
    assert task.status == "IN_PROGRESS" and task.stalled_minutes == 11  # never made a failure


def test_changed_at_moves_only_with_status_or_progress(simulator):
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(10)
    services.task_lookup(ids=[task_id])
    first = Task.objects.get(id=task_id).changed_at
    services.task_lookup(ids=[task_id])
    assert Task.objects.get(id=task_id).changed_at == first
    simulator.clock.advance(10)
    services.task_lookup(ids=[task_id])
    assert Task.objects.get(id=task_id).changed_at > first


def test_refresh_fetches_a_final_task_again_and_goes_back(logged_in, simulator):
    task_id = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(60)
    logged_in.get("/tasks/", {"ids": task_id})
    simulator.reset_counters()
    back = f"/tasks/?ids={task_id}"

    # Cards carry no `next` field: a plain post goes back where it came from (Referer).
    response = logged_in.post(f"/tasks/{task_id}/refresh", headers={"Referer": f"http://testserver{back}"})

    assert response.status_code == 302 and response.url == f"http://testserver{back}"
    assert simulator.calls["list"] == 1
    elsewhere = logged_in.post(f"/tasks/{task_id}/refresh", headers={"Referer": "https://evil.example/"})
    assert elsewhere.url == f"/tasks/{task_id}/"
    card = logged_in.post(f"/tasks/{task_id}/refresh", headers={"HX-Request": "true"})
    assert card.content.decode().lstrip().startswith('<article class="card status-success"')
    # The card's one form aims at its press-result slot: the answer retargets the whole card.
    assert (card["HX-Retarget"], card["HX-Reswap"]) == (f"#task-{task_id}", "outerHTML")
    assert simulator.calls["list"] == 3


def test_refresh_needs_a_csrf_token_and_a_post(user, simulator):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/tasks/1743326750223591/refresh").status_code == 403
    assert client.get("/tasks/1743326750223591/refresh").status_code == 405
    assert simulator.calls["list"] == 0


def test_cards_carry_a_refresh_form_that_works_without_javascript(logged_in, simulator):
    task_id = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(60)
    text = logged_in.get("/tasks/", {"ids": task_id}).content.decode()
    # The card's one form: a plain post with its CSRF token; Refresh posts it to its own path.
    form = re.search(
        rf'<form class="buttons" method="post" action="/tasks/{task_id}/action".*?</form>', text, re.S
    )
    assert 'name="csrfmiddlewaretoken"' in form.group(0)
    assert f'<button formaction="/tasks/{task_id}/refresh" class="link refresh-button">' in form.group(0)
    assert '<dt>Took</dt><dd class="duration">' in text


@pytest.mark.parametrize("count", [10, 200])
def test_the_poll_query_count_does_not_grow_with_ids(
    logged_in, settings, django_assert_max_num_queries, count
):
    settings.MJ_FRESHNESS_SECONDS = 60  # all fresh: this measures the database side only
    ids = [str(1760000000000000 + i) for i in range(count)]
    services.task_store(records=[TaskRecord(id=i, status="IN_PROGRESS", progress=10) for i in ids])
    # 4, plus 2 for the permission check of the running cards' cancel control
    # (once a request: Django caches a user's permissions on the user), plus 2
    # for the changed cards' stars and tags (all of them at once).
    with django_assert_max_num_queries(8):
        response = logged_in.get("/tasks/poll", {"ids": ",".join(f"{i}:old" for i in ids)})
    assert response.status_code == 200
    assert len(_oob_cards(response.content)) == count


def test_the_poll_endpoint_needs_login(client):
    response = client.get("/tasks/poll", {"ids": "1743326750223591:x"})
    assert response.status_code == 302


def test_the_detail_page_polls_its_task_and_reloads_when_it_finishes(logged_in, simulator):
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(10)
    vals = _poller(logged_in.get(f"/tasks/{task_id}/").content)
    assert vals["main"] == task_id

    simulator.clock.advance(20)
    answer = _poll(logged_in, vals)
    assert f'<div class="live" id="live-{task_id}"'.encode() in answer.content
    assert "HX-Refresh" not in answer

    simulator.clock.advance(200)
    last = _poll(logged_in, _next(vals, answer))
    assert last.status_code == 286 and last["HX-Refresh"] == "true"


@pytest.mark.parametrize(
    ("seconds", "text"), [(48, "48 s"), (125, "2 min 5 s"), (120, "2 min"), (3780, "1 h 3 min"), (0, "0 s")]
)
def test_durations_read_like_a_person_would_say_them(seconds, text):
    assert duration(timedelta(seconds=seconds)) == text
    assert duration(None) == ""


def test_the_home_page_polls_its_unfinished_recent_cards(logged_in, simulator):
    running = simulator.add_task(queued=0.0, run=100.0)
    done = simulator.add_task(queued=0.0, run=1.0, ago=60)
    logged_in.get("/tasks/", {"ids": f"{running},{done}"})

    page = logged_in.get("/")

    vals = _poller(page.content)
    assert [entry.split(":")[0] for entry in vals["ids"].split(",")] == [running]
    assert b'id="upstream-banner"' in page.content


def test_a_failed_refresh_says_why(logged_in, simulator):
    task_id = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(60)
    logged_in.get("/tasks/", {"ids": task_id})
    simulator.set_fault("401")

    response = logged_in.post(f"/tasks/{task_id}/refresh", headers={"HX-Request": "true"})

    assert response["HX-Refresh"] == "true"
    page = logged_in.get(f"/tasks/?ids={task_id}").content.decode()
    assert "rejected the API key" in page
