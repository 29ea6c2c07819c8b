"""IDs never seen are looked up by a job, not by the page: "looking up…" cards the
poller fills in, one job per ID however many viewers ask (a lease row each).

Jobs are kept, not run (Django's dummy backend): the test runs them itself,
when it wants, as a worker would."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks_app import lookups
from tasks_app.models import Lease

pytestmark = pytest.mark.django_db

LOOKING_UP = 'class="card card-lookup"'


@pytest.fixture
def held(jobs_held, settings):
    settings.MJ_LOOKUP_WAIT_SECONDS = 0.1  # nobody runs the job: the page waits this long for nothing
    return jobs_held


def _lookups(backend) -> list:
    return [result for result in backend.results if result.task.name == "tasks_lookup"]


def _run(result) -> dict:
    """What a worker does with the job."""
    return result.task.call(*result.args, **result.kwargs)


def _poll(client, *ids, main=""):
    return client.post("/tasks/poll", {"ids": ",".join(f"{i}:" for i in ids), "main": main})


def test_an_unseen_id_is_a_looking_up_card_and_one_job_however_many_viewers(
    logged_in, simulator, held, django_user_model
):
    task_id = simulator.add_task(prompt="a heron at dawn", queued=0.0, run=1.0)
    simulator.clock.advance(60)
    other = Client()
    other.force_login(django_user_model.objects.create_user("bob", password="bob-pass-123"))

    pages = [viewer.get("/tasks/", {"ids": task_id}).content.decode() for viewer in (logged_in, other) * 2]

    assert simulator.calls["list"] == 0  # no page asked the relay
    for page in pages:
        assert LOOKING_UP in page and f'data-poll-id="{task_id}" data-poll-stamp=""' in page
        assert 'hx-trigger="every 3000ms' in page  # the poller asks until it is filled in
    assert len(_lookups(held)) == 1

    _run(_lookups(held)[0])
    poll = _poll(logged_in, task_id)

    assert simulator.calls["list"] == 1
    assert f'id="task-{task_id}"' in poll.content.decode() and "a heron at dawn" in poll.content.decode()
    assert not Lease.objects.filter(name__startswith=lookups.LEASE).exists()  # done: the lease is gone


def test_a_page_whose_ids_are_all_unknown_says_so_in_words_once_known(logged_in, simulator, held):
    """While looked up, the words wait hidden (the poller shows them if every card
    comes back unknown, tests/browser/test_empty_states.py); a page sent after the
    answer shows them at once."""
    ids = "1765999999999991,1765999999999992"
    first = logged_in.get("/tasks/", {"ids": ids}).content.decode()
    _run(_lookups(held)[0])
    again = logged_in.get("/tasks/", {"ids": ids}).content.decode()

    assert '<p class="empty-state" role="status" hidden data-all-unknown>None of these IDs' in first
    assert '<p class="empty-state" role="status">None of these IDs' in again


def test_an_id_the_relay_does_not_know_is_said_so_and_not_asked_again_at_once(logged_in, simulator, held):
    unknown = "1765999999999999"
    logged_in.get("/tasks/", {"ids": unknown})
    _run(_lookups(held)[0])

    poll = _poll(logged_in, unknown)
    again = logged_in.get("/tasks/", {"ids": unknown}).content.decode()

    assert poll.status_code == 286 and "not known to the relay" in poll.content.decode()
    assert f'data-poll-id="{unknown}"' not in poll.content.decode()  # the poller stops asking
    assert "1 ID not known to the relay" in again and LOOKING_UP not in again
    assert len(_lookups(held)) == 1 and simulator.calls["list"] == 1


def test_a_lookup_whose_job_was_lost_is_queued_again_and_the_late_job_asks_nothing(
    logged_in, simulator, held
):
    task_id = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(60)
    logged_in.get("/tasks/", {"ids": task_id})
    Lease.objects.update(until=timezone.now() - timezone.timedelta(seconds=1))  # no worker took it in time

    _poll(logged_in, task_id)  # the next viewer, or the poller, queues it again
    late, fresh = _lookups(held)

    assert _run(late) == {"asked": 0} and simulator.calls["list"] == 0  # taken over: it asks nothing
    assert _run(fresh)["asked"] == 1 and simulator.calls["list"] == 1


def test_a_relay_failure_frees_the_id_for_the_next_poll(logged_in, simulator, held):
    task_id = simulator.add_task(queued=0.0, run=1.0)
    simulator.set_fault("500", routes="list", times=10)
    logged_in.get("/tasks/", {"ids": task_id})

    assert _run(_lookups(held)[0])["error"] is True
    cache.clear()  # a worker's cache is its own (local memory): the page learns it from the database
    poll = _poll(logged_in, task_id)

    assert poll.status_code == 200 and len(_lookups(held)) == 2  # asked again, later
    assert 'data-failures="1"' in poll.content.decode()  # and the poller backs off
    assert "The relay is unreachable or failing" in poll.content.decode()  # the banner says why

    simulator.clear_faults()
    _run(_lookups(held)[1])
    assert "banner-error" not in _poll(logged_in, task_id).content.decode()


def test_a_detail_page_looked_up_reloads_itself_when_its_task_arrives(logged_in, simulator, held):
    task_id = simulator.add_task(prompt="a kite over dunes", queued=0.0, run=1.0)
    simulator.clock.advance(60)

    page = logged_in.get(f"/tasks/{task_id}/").content.decode()
    assert "Looking up this task" in page and f'data-poll-id="{task_id}"' in page
    assert f'"main": "{task_id}"' in page.replace("&quot;", '"')

    looking = _poll(logged_in, task_id, main=task_id)
    assert "HX-Refresh" not in looking  # still looking, and the next poll still says whose page it is:
    assert f'"main": "{task_id}"' in looking.content.decode().replace("&quot;", '"')
    _run(_lookups(held)[0])
    assert _poll(logged_in, task_id, main=task_id)["HX-Refresh"] == "true"
    assert "a kite over dunes" in logged_in.get(f"/tasks/{task_id}/").content.decode()


def test_an_unknown_id_page_is_404_once_the_relay_said_so(logged_in, simulator, held):
    unknown = "1765999999999998"
    assert logged_in.get(f"/tasks/{unknown}/").status_code == 200  # looking it up
    _run(_lookups(held)[0])
    assert logged_in.get(f"/tasks/{unknown}/").status_code == 404


@pytest.mark.parametrize("place_taken", [False, True])
def test_only_so_many_requests_of_a_process_wait_for_a_lookup(
    logged_in, simulator, held, settings, place_taken
):
    settings.MJ_LOOKUP_WAITERS, settings.MJ_LOOKUP_WAIT_SECONDS = 1, 0.3
    task_id = simulator.add_task(queued=0.0, run=1.0)
    places = lookups._waiters(1)
    if place_taken:
        assert places.acquire(blocking=False)  # another request of this process is waiting
    try:
        with CaptureQueriesContext(connection) as queries:
            page = logged_in.get("/tasks/", {"ids": task_id})
    finally:
        if place_taken:
            places.release()
    waits = [q for q in queries.captured_queries if "'missing'" in q["sql"] and "LIMIT 1" in q["sql"]]

    assert LOOKING_UP in page.content.decode()
    assert (len(waits) == 0) if place_taken else (len(waits) >= 2)  # it looked again and again
