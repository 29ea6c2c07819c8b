"""Push updates: the relay's notifyHook callbacks reach the cache through the same rules."""

import json

import pytest

from tasks_app import relay, services
from tasks_app.models import Task

pytestmark = pytest.mark.django_db

TOKEN = "hook-token-7c2f9e"


@pytest.fixture
def hook(settings):
    settings.MJ_NOTIFY_TOKEN = TOKEN
    return f"/hooks/notify/{TOKEN}"


def _post(client, url, body):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(url, data, content_type="application/json")


def test_a_pushed_task_is_stored_without_login_or_csrf(client, hook):
    response = _post(client, hook, {"id": "1743326750223591", "status": "IN_PROGRESS", "progress": "40%"})
    assert response.status_code == 200
    task = Task.objects.get(id="1743326750223591")
    assert (task.status, task.progress) == ("IN_PROGRESS", 40)


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


def test_a_late_push_never_moves_a_finished_task_back(client, hook):
    _post(
        client,
        hook,
        {"id": "1743326750223591", "status": "SUCCESS", "progress": "100%", "imageUrl": "https://x/a.png"},
    )
    response = _post(client, hook, {"id": "1743326750223591", "status": "IN_PROGRESS", "progress": "60%"})
    assert response.status_code == 200 and response.json() == {"changed": []}
    task = Task.objects.get()
    assert (task.status, task.progress, task.image_url) == ("SUCCESS", 100, "https://x/a.png")


def test_the_hook_takes_only_post(client, hook):
    assert client.get(hook).status_code == 405


def test_notify_hook_url_is_built_from_the_public_url_and_the_token(settings):
    settings.MJ_NOTIFY_URL, settings.MJ_NOTIFY_TOKEN = "https://dash.example.com", TOKEN
    assert services.notify_hook_url() == f"https://dash.example.com/hooks/notify/{TOKEN}"
    settings.MJ_NOTIFY_URL = ""
    assert services.notify_hook_url() == ""


@pytest.mark.django_db(transaction=True)
def test_the_simulator_pushes_each_change_to_the_live_dashboard(live_server, simulator, settings, jobs_held):
    settings.MJ_NOTIFY_TOKEN = TOKEN
    hook_url = f"{live_server.url}/hooks/notify/{TOKEN}"
    task_id = simulator.add_task(queued=0.0, run=20.0, notifyHook=hook_url)

    assert simulator.deliver_hooks() == [(task_id, 200)]
    assert Task.objects.get(id=task_id).status == "NOT_START"
    simulator.clock.advance(6)  # advancing the clock pushes what moved
    task = Task.objects.get(id=task_id)
    assert task.status == "IN_PROGRESS" and 0 < task.progress < 100
    simulator.clock.advance(60)
    task = Task.objects.get(id=task_id)
    assert task.status == "SUCCESS" and task.image_url
    assert simulator.deliver_hooks() == []  # nothing moved since
    assert simulator.calls["list"] == 0  # the dashboard never had to ask
    assert all(status == 200 for _, status in simulator.hook_deliveries)


@pytest.mark.django_db(transaction=True)
def test_a_submitted_action_carries_the_hook_and_its_task_is_pushed(live_server, simulator, settings):
    settings.MJ_NOTIFY_TOKEN, settings.MJ_NOTIFY_URL = TOKEN, live_server.url
    parent = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(30)
    custom_id = simulator.payload(parent)["buttons"][0]["customId"]

    envelope = relay.submit_action(parent, custom_id, notify_hook=services.notify_hook_url())
    child = envelope.task_ids[0]
    simulator.clock.advance(60)

    assert simulator.stored(child).notify_hook == services.notify_hook_url()
    assert Task.objects.get(id=child).status == "SUCCESS"
