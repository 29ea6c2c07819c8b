"""Push updates: the relay's notifyHook callbacks reach the cache through the same rules."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tasks_app import queues, relay, services
from tasks_app.models import Press, Task

pytestmark = pytest.mark.django_db

TOKEN = "hook-token-7c2f9e"


@pytest.fixture
def hook(settings):
    settings.MJ_NOTIFY_TOKEN = TOKEN
    return f"/hooks/notify/{TOKEN}"


def _post(client, url, body):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def test_a_push_is_a_cue_to_ask_the_relay_and_needs_no_login_or_csrf(client, hook, simulator):
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(10)
    services.task_lookup(ids=[task_id])
    simulator.clock.advance(30)
    simulator.reset_counters()
    forged = {"id": task_id, "status": "SUCCESS", "prompt": "rewritten", "imageUrl": "http://10.0.0.1/x.png"}

    response = _post(client, hook, forged)

    assert response.status_code == 200 and response.json() == {"confirming": [task_id]}
    assert simulator.calls["list"] == 1  # the relay was asked...
    task = Task.objects.get(id=task_id)
    assert task.status == "IN_PROGRESS" and task.progress > 0  # ...and its answer stored, not the body
    assert task.prompt != "rewritten" and "10.0.0.1" not in task.image_url


def test_a_push_about_a_finished_task_or_an_unknown_one_changes_nothing(client, hook, simulator):
    done = simulator.add_task(queued=0.0, run=1.0, prompt="a finished fox")
    simulator.clock.advance(60)
    services.task_lookup(ids=[done])
    before = Task.objects.get(id=done).payload
    simulator.reset_counters()

    forged = _post(
        client, hook, {"id": done, "status": "SUCCESS", "prompt": "x", "imageUrl": "http://10.0.0.1/"}
    )
    unknown = _post(client, hook, {"id": "1743000000000999", "status": "SUCCESS"})

    assert forged.json() == {"ignored": [done]} and unknown.json() == {"ignored": ["1743000000000999"]}
    assert Task.objects.get(id=done).payload == before
    assert not Task.objects.filter(id="1743000000000999").exists()
    assert simulator.calls["list"] == 0


def test_the_relay_echo_of_the_hook_and_its_token_is_never_stored_or_shown(
    logged_in, simulator, settings, django_user_model
):
    settings.MJ_NOTIFY_TOKEN, settings.MJ_NOTIFY_URL = TOKEN, "https://dash.example.com"
    task_id = simulator.add_task(queued=0.0, run=1.0, notifyHook=services.notify_hook_url())
    simulator.clock.advance(60)
    assert TOKEN in json.dumps(simulator.payload(task_id))  # the relay echoes it

    services.task_lookup(ids=[task_id])

    task = Task.objects.get(id=task_id)
    assert TOKEN not in json.dumps(task.payload) and TOKEN not in json.dumps(task.properties)
    assert TOKEN not in logged_in.get(f"/tasks/{task_id}/").content.decode()
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("root", password="root-pass-123"))
    assert TOKEN not in admin.get(f"/admin/tasks_app/task/{task_id}/change/").content.decode()


def test_a_body_nested_past_the_parser_is_refused_with_400(client, hook):
    assert _post(client, hook, "[" * 100_000 + "]" * 100_000).status_code == 400


@pytest.mark.parametrize("token", ["wrong", TOKEN + "x", TOKEN[:-1]])
def test_a_wrong_token_is_404_and_changes_nothing(client, hook, token):
    response = _post(client, f"/hooks/notify/{token}", {"id": "1743326750223591", "status": "SUCCESS"})
    assert response.status_code == 404
    assert not Task.objects.exists()


def test_the_hook_is_off_when_no_token_is_set(client, settings):
    settings.MJ_NOTIFY_TOKEN = ""
    assert _post(client, "/hooks/notify/anything", {"id": "1743326750223591"}).status_code == 404
    assert _post(client, "/hooks/notify/", {"id": "1743326750223591"}).status_code == 404


@pytest.mark.parametrize(
    "body", [b"not json", b"", "[1, 2]", {"status": "SUCCESS"}, {"id": ""}, {"id": "x" * 65}, "null"]
)
def test_a_malformed_body_is_400_and_changes_nothing(client, hook, body):
    services.task_store(records=[relay.normalise_task({"id": "1743326750223591", "status": "SUBMITTED"})])
    before = Task.objects.get().payload
    assert _post(client, hook, body).status_code == 400
    assert Task.objects.get().payload == before


def test_the_hook_takes_only_post(client, hook):
    assert client.get(hook).status_code == 405


def test_notify_hook_url_is_built_from_the_public_url_and_the_token(settings):
    settings.MJ_NOTIFY_URL, settings.MJ_NOTIFY_TOKEN = "https://dash.example.com", TOKEN
    assert services.notify_hook_url() == f"https://dash.example.com/hooks/notify/{TOKEN}"
    settings.MJ_NOTIFY_URL = ""
    assert services.notify_hook_url() == ""


@pytest.mark.django_db(transaction=True)
def test_each_push_of_the_simulator_brings_the_relays_own_answer(live_server, simulator, settings):
    settings.MJ_NOTIFY_TOKEN = TOKEN
    # Images are not this test's subject: jobs run inside the push's request here (the
    # immediate backend), and archiving a grid there could outlast the push's 3 s timeout.
    settings.MJ_IMAGE_ALLOW_LOOPBACK = False
    hook_url = f"{live_server.url}/hooks/notify/{TOKEN}"
    task_id = simulator.add_task(queued=0.0, run=20.0, notifyHook=hook_url)
    services.task_lookup(ids=[task_id])  # the dashboard follows it (it pressed the button)
    # The tests' immediate job backend archives the finished image inside the push's
    # request (a worker would, in production): on a loaded machine that outlasts 3 s.
    simulator.hook_timeout = 30.0
    simulator.reset_counters()

    simulator.clock.advance(6)  # advancing the clock pushes what moved
    task = Task.objects.get(id=task_id)
    assert task.status == "IN_PROGRESS" and 0 < task.progress < 100
    simulator.clock.advance(60)
    task = Task.objects.get(id=task_id)
    assert task.status == "SUCCESS" and task.image_url
    assert simulator.deliver_hooks() == []  # nothing moved since
    assert all(status == 200 for _, status in simulator.hook_deliveries)
    assert simulator.calls["list"] == len(simulator.hook_deliveries)  # one confirmation per push


@pytest.mark.django_db(transaction=True)
def test_a_submitted_action_carries_the_hook_and_its_task_is_pushed(live_server, simulator, settings):
    settings.MJ_NOTIFY_TOKEN, settings.MJ_NOTIFY_URL = TOKEN, live_server.url
    parent = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(30)
    custom_id = simulator.payload(parent)["buttons"][0]["customId"]

    envelope = relay.submit_action(parent, custom_id, notify_hook=services.notify_hook_url())
    child = envelope.task_ids[0]
    services.task_lookup(ids=[child])  # what a press through the dashboard records
    simulator.clock.advance(60)

    assert simulator.stored(child).notify_hook == services.notify_hook_url()
    assert Task.objects.get(id=child).status == "SUCCESS"


@pytest.fixture
def queue_table(settings):
    """Jobs go to the database queue and stay there (no worker runs): rows to count."""
    settings.MJ_TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)}}
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects


def test_a_flood_of_pushes_with_a_press_marker_queues_one_job(client, hook, simulator, queue_table):
    parent = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(60)
    services.task_lookup(ids=[parent])
    marker = "mjdash-press-1-0123456789abcdef"
    Press.objects.create(
        task_id=parent, custom_id="MJ::JOB::upsample::1", created=timezone.now(), marker=marker
    )
    queue_table.all().delete()  # what storing the parent queued (its image)
    child = "1743000000000777"

    answers = {_post(client, hook, {"id": child, "state": marker}).status_code for _ in range(300)}

    assert answers == {200}
    assert queue_table.filter(task_path__endswith="press_adopt").count() == 1
    assert queue_table.count() == 1


def test_a_flood_of_pushes_about_a_running_task_queues_at_most_one_tick(client, hook, simulator, queue_table):
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(10)
    services.task_lookup(ids=[task_id])
    queue_table.all().delete()

    _post(client, hook, {"id": task_id, "status": "SUCCESS"})
    with CaptureQueriesContext(connection) as later:
        for _ in range(299):
            _post(client, hook, {"id": task_id, "status": "SUCCESS"})

    assert queue_table.count() <= 1  # the one chain of follow ticks
    assert Task.objects.get(pk=task_id).last_fetched is None  # due in the next tick
    writes = [q["sql"] for q in later.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert [sql for sql in writes if '"tasks_app_task"' in sql] == []  # already due: rewritten by none


@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_a_push_makes_the_task_due_and_the_workers_tick_asks_for_it(
    client, hook, simulator, settings, workers
):
    """The immediate backend asks the relay inside the push; production has workers,
    and there a push only marks the task due for their next batched tick."""
    import time

    settings.MJ_FRESHNESS_SECONDS = 3600  # without the push, nothing would ask again for an hour
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(10)
    services.task_lookup(ids=[task_id])
    before = Task.objects.get(id=task_id).progress
    workers.start(1)
    simulator.clock.advance(30)
    simulator.reset_counters()

    response = _post(client, hook, {"id": task_id, "status": "IN_PROGRESS"})

    assert response.json() == {"confirming": [task_id]}
    assert simulator.calls["list"] == 0  # not inside the push's request
    deadline = time.monotonic() + 60
    while Task.objects.get(id=task_id).progress == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Task.objects.get(id=task_id).progress > before, "the worker never asked for the pushed task"
    assert simulator.calls["list"] >= 1
