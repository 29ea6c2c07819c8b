"""The API key is hidden however a relay echoes it: as sent, case-changed or spaced out."""

import json

import pytest

from mjdash.logs import REDACTED, redact, redact_secrets
from tasks_app import services
from tasks_app.models import Task
from tests.conftest import API_KEY

ECHOES = [
    API_KEY,
    API_KEY.upper(),
    API_KEY.lower(),
    " ".join(API_KEY),  # s k - t e s t ...
    API_KEY.replace("-", " "),
    "\u200b".join(API_KEY),  # zero-width spaces between the characters
    API_KEY.replace("-", "_").swapcase(),
]


@pytest.mark.parametrize("echo", ECHOES)
def test_a_log_line_never_carries_the_key_however_it_is_echoed(echo):
    cleaned = redact(f"relay said: invalid key {echo} (check it)", secrets=[API_KEY])
    assert REDACTED in cleaned and "9f3c1b7e" not in cleaned.lower().replace(" ", "").replace("\u200b", "")


def test_prose_near_the_key_is_left_alone():
    text = "sk test: a secret garden, 9f3c 1b7e"  # parts of the key, never the whole
    assert redact_secrets(text, secrets=[API_KEY]) == text


@pytest.mark.django_db
def test_a_relay_echoing_the_key_in_a_task_stores_and_shows_none_of_it(logged_in, simulator, settings):
    task_id = "1743326750000777"
    simulator.put_raw(
        {
            "id": task_id,
            "status": "FAILURE",
            "prompt": "a bearer of gifts",  # prose that looks like a header stays as written
            "failReason": f"invalid api key {ECHOES[1]}",
            "description": f"key was {ECHOES[3]}",
            "properties": {"echo": ECHOES[5], "nested": [ECHOES[6]]},
        }
    )

    services.task_lookup(ids=[task_id])
    page = logged_in.get(f"/tasks/{task_id}/").content.decode()

    task = Task.objects.get(pk=task_id)
    stored = json.dumps(task.payload, ensure_ascii=False) + task.fail_reason + task.description
    squeezed = "".join(c for c in stored + page if c.isalnum()).lower()
    assert "9f3c1b7e" not in squeezed
    assert task.prompt == "a bearer of gifts" and task.fail_reason == f"invalid api key {REDACTED}"


def _squeezed(text: str) -> str:
    return "".join(c for c in text if c.isalnum()).lower()


@pytest.mark.django_db
def test_a_relay_error_body_echoing_the_key_reaches_no_page(logged_in, simulator, settings):
    task_id = "1743326750000778"
    simulator.set_fault("echo_key", times=10, routes=("list",))  # every retry too

    page = logged_in.get("/tasks/", {"ids": task_id}, follow=True).content.decode()

    assert "rejected by the pool" in page  # the relay's words are shown...
    assert REDACTED in page and "9f3c1b7e" not in _squeezed(page)  # ...without the key


@pytest.mark.django_db
def test_a_press_whose_error_body_echoes_the_key_stores_and_shows_none_of_it(client, simulator, admin_user):
    from tasks_app.models import Press

    task_id = simulator.add_task(run=0.0)
    simulator.clock.advance(60)
    services.task_lookup(ids=[task_id])
    custom_id = Task.objects.get(pk=task_id).buttons[0]["customId"]
    simulator.set_fault("echo_key", times=10, routes=("action",))
    client.force_login(admin_user)

    page = client.post(f"/tasks/{task_id}/action", {"custom_id": custom_id}, follow=True).content.decode()

    message = Press.objects.get(task_id=task_id).message
    assert "rejected by the pool" in message and REDACTED in message
    assert "9f3c1b7e" not in _squeezed(message + page)
