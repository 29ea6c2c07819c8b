"""Text no database stores: NUL, lone surrogates, NaN and very deep JSON.

The suite runs on SQLite and on PostgreSQL (which refuses NUL in text and
jsonb); a relay's answer holding them must still be stored and shown, and a
person's prompt holding them refused before it is billed.
"""

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tasks_app import services
from tasks_app.buttons import services as buttons
from tasks_app.models import Press, Task
from tasks_app.text import TOO_DEEP
from tests.trickle import TrickleServer

pytestmark = pytest.mark.django_db

TASK_ID = "1743326750223591"


# A list-by-condition answer as a relay may send it, with escapes json.loads accepts.
HOSTILE_ANSWER = (
    '[{"id": "TASK", "action": "IMAGINE", "status": "SUC\\u0000CESS", "progress": "100%",'
    ' "prompt": "a\\u0000b\\ud800c", "description": "\\udfff", "failReason": "",'
    ' "finishTime": 1743326760000, "imageUrl": "",'
    ' "buttons": [{"customId": "MJ::JOB::upsample::1::abc", "label": "U\\u00001\\ud800"}],'
    ' "properties": {"finalPrompt": "x\\u0000", "k\\u0000ey": "v\\ud800", "ratio": NaN, "deep": DEEP}}]'
)


def _hostile_answer() -> bytes:
    data = HOSTILE_ANSWER.replace("TASK", TASK_ID).replace("DEEP", "[" * 200 + "]" * 200).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


def test_a_task_with_nul_surrogates_nan_and_deep_json_is_stored_and_its_pages_render(logged_in, settings):
    with TrickleServer(fast=_hostile_answer()) as relay:
        settings.MJ_API_BASE = relay.url
        settings.MJ_API_KEY = "sk-test"
        lookup = services.task_lookup(ids=[TASK_ID])

    assert lookup.error is None
    task = Task.objects.get(pk=TASK_ID)
    assert (task.status, task.prompt, task.description) == ("SUCCESS", "ab\ufffdc", "\ufffd")
    assert task.buttons[0]["label"] == "U1\ufffd"
    assert task.properties["finalPrompt"] == "x" and task.properties["key"] == "v\ufffd"
    assert task.properties["ratio"] is None
    deep = task.properties["deep"]
    for _level in range(30):
        deep = deep[0]
    assert deep == TOO_DEEP
    assert "\x00" not in json.dumps(task.payload)

    for url in (reverse("task_list") + f"?ids={TASK_ID}", reverse("task_detail", args=[TASK_ID])):
        response = logged_in.get(url)
        assert response.status_code == 200
        assert "ab\ufffdc" in response.content.decode()


@pytest.fixture
def presser(client, user):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    client.force_login(user)
    return client


def _modal_task() -> Task:
    return Task.objects.create(id=TASK_ID, action="CUSTOM_ZOOM", status="MODAL", prompt="a lighthouse")


def test_a_modal_prompt_with_a_nul_is_refused_before_any_paid_call(presser, simulator):
    task = _modal_task()
    response = presser.post(reverse("task_modal", args=[task.id]), {"prompt": "a lighthouse\x00 --zoom 2"})

    assert response.status_code == 400
    assert "cannot be stored or sent" in response.content.decode()
    assert simulator.calls["modal"] == 0
    assert not Press.objects.exists()


def test_a_modal_prompt_with_a_lone_surrogate_is_refused_before_any_paid_call(user, simulator):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    task = _modal_task()
    with pytest.raises(buttons.PressRefused, match="cannot be stored or sent"):
        buttons.task_submit_modal(task_id=task.id, user=user, prompt="a lighthouse \ud800")
    assert simulator.calls["modal"] == 0
