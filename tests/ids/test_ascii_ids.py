"""Task IDs are ASCII digits everywhere: in a paste, a poll, a relay's task and a submit answer.

str.isdigit and \\d take Arabic-Indic (١٧٤٣), fullwidth (１７４３) and other scripts'
digits; no relay knows such an ID and no URL can be made of it.
"""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tasks_app import relay, services
from tasks_app.ids import parse_ids
from tasks_app.models import Task

ASCII = "1743326750223591"
ARABIC_INDIC = ASCII.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
FULLWIDTH = ASCII.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.mark.parametrize("pasted", [ARABIC_INDIC, FULLWIDTH, f'["{FULLWIDTH}"]', f"task {ARABIC_INDIC} done"])
def test_other_scripts_digits_are_rejected_as_ids_not_taken_for_them(pasted):
    parsed = parse_ids(pasted)
    assert parsed.ids == []
    assert [reason for _token, reason in parsed.rejected] == ["not a task ID: IDs are digits only"]


def test_an_ascii_run_touching_other_scripts_digits_is_not_an_id_but_one_in_chinese_text_is():
    assert parse_ids(f"٣{ASCII}").ids == []
    assert parse_ids(f"任务{ASCII}完成").ids == [ASCII]


def test_a_poll_ignores_ids_in_other_scripts(logged_in, simulator):
    response = logged_in.get(reverse("task_poll"), {"ids": f"{FULLWIDTH}:x,{ARABIC_INDIC}:y"})
    assert response.status_code == 286  # htmx: nothing left to poll
    assert simulator.calls["list"] == 0


def test_a_relay_task_whose_id_is_not_ascii_digits_is_not_a_task():
    for task_id in (ARABIC_INDIC, FULLWIDTH, "<script>", "../../etc/passwd", "0f8fad5b-d9cb-469f-a165"):
        assert relay.normalise_task({"id": task_id, "status": "SUCCESS"}) is None


def test_a_submit_answer_keeps_only_ascii_ids_each_once_and_ten_at_most():
    named = ",".join([FULLWIDTH, "<script>", ASCII, ASCII, *(f"17433267502236{i:02d}" for i in range(30))])
    ids = relay.normalise_envelope({"code": 1, "result": named}).task_ids
    assert ids[0] == ASCII
    assert len(ids) == 10 and len(set(ids)) == 10
    assert all(task_id.isascii() and task_id.isdigit() for task_id in ids)


@pytest.fixture
def grid(client, user, simulator):
    """A finished grid and a client whose user may press its buttons."""
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    client.force_login(user)
    task_id = simulator.add_task(prompt="a lighthouse", run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    return Task.objects.get(pk=task_id)


def _press_u1(client, grid):
    custom_id = next(b["customId"] for b in grid.buttons if b["label"] == "U1")
    return client.post(reverse("task_action", args=[grid.id]), {"custom_id": custom_id})


@pytest.mark.parametrize(
    "result", ["<script>alert(1)</script>", "../../etc/passwd", "0f8fad5b-d9cb-469f", FULLWIDTH]
)
def test_a_submit_answer_naming_no_task_id_stores_no_child_and_the_pages_still_work(
    client, grid, simulator, result
):
    simulator.forced_results.append(result)
    response = _press_u1(client, grid)

    assert response.status_code < 500
    assert not Task.objects.exclude(pk=grid.pk).exists()
    assert client.get(reverse("task_detail", args=[grid.id])).status_code == 200


def test_a_submit_answer_naming_many_children_stores_ten(client, grid, simulator):
    simulator.tasks_per_press = 50
    _press_u1(client, grid)
    assert Task.objects.filter(parent=grid).count() == 10
    assert client.get(reverse("task_detail", args=[grid.id])).status_code == 200
