"""Pressing a task's buttons, through the real simulator on loopback (its calls are counted)."""

import base64
import io
import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.urls import reverse
from PIL import Image

from tasks_app import services
from tasks_app.buttons.rows import button_rows
from tasks_app.models import Press, Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def presser(client, user):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    client.force_login(user)
    return client


def _finished(simulator, **fields):
    task_id = simulator.add_task(prompt="a lighthouse at dusk", run=1.0, queued=0.0, **fields)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    simulator.reset_counters()
    return task_id


def _upscale(simulator):
    grid = _finished(simulator)
    cid = _custom_id(grid, "U1")
    up = simulator.add_task(
        action="UPSCALE", prompt="a lighthouse at dusk", parent_id=grid, customId=cid, run=1.0
    )
    simulator.clock.advance(120)
    services.task_lookup(ids=[up])
    simulator.reset_counters()
    return up


def _custom_id(task_id, text):
    for button in Task.objects.get(pk=task_id).buttons:
        if text in (button["label"], button["emoji"]):
            return button["customId"]
    raise AssertionError(f"no button {text}")


def _press(client, task_id, text, **extra):
    url = reverse("task_action", args=[task_id])
    return client.post(url, {"custom_id": _custom_id(task_id, text)}, **extra)


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---- envelope codes ---------------------------------------------------------------


def test_code_1_creates_the_child_with_its_parent_user_and_button(presser, simulator, user):
    grid = _finished(simulator)
    response = _press(presser, grid, "U2")

    child = Task.objects.get(parent_id=grid)
    assert response.status_code == 302
    assert response.url == reverse("task_detail", args=[child.id])
    assert simulator.calls["action"] == 1
    press = Press.objects.get(task_id=grid)
    body = {"taskId": grid, "customId": _custom_id(grid, "U2"), "state": press.marker}
    assert simulator.received == [("action", body)]  # the marker the relay echoes in the child
    assert (child.status, child.pressed_by, child.pressed_label) == ("SUBMITTED", user, "U2")
    assert child.pressed_custom_id == _custom_id(grid, "U2")
    assert child.last_fetched is None  # the poller asks about it next


def test_an_htmx_press_answers_with_the_new_card_for_the_top_of_the_grid(presser, simulator):
    grid = _finished(simulator)
    response = _press(presser, grid, "V3", HTTP_HX_REQUEST="true")

    child = Task.objects.get(parent_id=grid)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-swap-oob="afterbegin:#task-grid"' in html
    assert f'id="task-{child.id}"' in html and f'data-poll-id="{child.id}"' in html
    assert "V3 of" in html


def test_code_22_creates_the_child_marked_queued(presser, simulator):
    grid = _finished(simulator)
    simulator.force_code(22)
    response = _press(presser, grid, "U1", HTTP_HX_REQUEST="true")

    child = Task.objects.get(parent_id=grid)
    assert child.queued and child.is_queued
    assert "queued at the relay" in response.content.decode()


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        (23, "queue is full"),
        (24, "banned word: “banned”"),
        (4, "System busy, please try again later"),
    ],
)
def test_refusing_codes_show_the_description_and_create_nothing(presser, simulator, code, shown):
    grid = _finished(simulator)
    simulator.force_code(code)
    response = _press(presser, grid, "U1", follow=True)

    assert any(shown in message for message in _messages(response))
    assert not Task.objects.filter(parent_id=grid).exists()
    assert simulator.calls["action"] == 1


def test_a_refused_press_does_not_block_the_next_one(presser, simulator):
    grid = _finished(simulator)
    simulator.force_code(23)
    _press(presser, grid, "U1")
    response = _press(presser, grid, "U1")

    assert simulator.calls["action"] == 2
    assert response.url == reverse("task_detail", args=[Task.objects.get(parent_id=grid).id])


def test_an_upstream_failure_shows_its_message(presser, simulator):
    grid = _finished(simulator)
    simulator.set_fault("500", times=5, routes=("action",))
    response = _press(presser, grid, "U1", follow=True)

    assert any("unreachable or failing" in message for message in _messages(response))
    assert not Task.objects.filter(parent_id=grid).exists()


def test_several_comma_separated_ids_make_one_child_each(presser, simulator):
    grid = _finished(simulator)
    simulator.tasks_per_press = 2
    response = _press(presser, grid, "🔄")

    children = list(Task.objects.filter(parent_id=grid).values_list("id", flat=True))
    assert len(children) == 2
    assert response.url.startswith(reverse("task_list"))
    assert all(child in response.url for child in children)


def test_code_21_with_a_modal_task_opens_its_form(presser, simulator):
    up = _upscale(simulator)
    response = _press(presser, up, "Vary (Region)")

    modal = Task.objects.get(parent_id=up)
    assert modal.status == "MODAL" and modal.pressed_label == "🖌️ Vary (Region)"
    assert response.url == reverse("task_detail", args=[modal.id])
    page = presser.get(response.url).content.decode()
    assert f'action="{reverse("task_modal", args=[modal.id])}"' in page
    assert "a lighthouse at dusk</textarea>" in page  # pre-filled with finalPrompt
    assert f'action="{reverse("task_cancel", args=[modal.id])}"' in page


def test_code_21_with_an_existing_task_links_it_as_the_child(presser, simulator):
    grid = _finished(simulator)
    simulator.code21_dialect = "original"
    done_elsewhere = simulator.add_task(
        action="UPSCALE", parent_id=grid, customId=_custom_id(grid, "U4"), run=1.0
    )
    simulator.clock.advance(60)
    response = _press(presser, grid, "U4")

    child = Task.objects.get(pk=done_elsewhere)
    assert response.url == reverse("task_detail", args=[done_elsewhere])
    assert (child.parent_id, child.status, child.pressed_label) == (grid, "SUCCESS", "U4")
    assert simulator.calls["action"] == 1


# ---- validation, double press ----------------------------------------------------------


@pytest.mark.parametrize("custom_id", ["MJ::JOB::upsample::9::deadbeef", "", "rm -rf /"])
def test_a_custom_id_not_among_the_buttons_is_refused_without_asking_the_relay(presser, simulator, custom_id):
    grid = _finished(simulator)
    response = presser.post(reverse("task_action", args=[grid]), {"custom_id": custom_id})

    assert response.status_code == 400
    assert sum(simulator.calls.values()) == 0


def test_an_unknown_task_is_refused(presser, simulator):
    response = presser.post(reverse("task_action", args=["1234567890123"]), {"custom_id": "x"})
    assert response.status_code == 404
    assert sum(simulator.calls.values()) == 0


def test_a_double_press_in_a_row_submits_once_and_shows_the_same_child(presser, simulator):
    grid = _finished(simulator)
    first = _press(presser, grid, "U2")
    second = _press(presser, grid, "U2", HTTP_HX_REQUEST="true")

    child = Task.objects.get(parent_id=grid)
    assert simulator.calls["action"] == 1
    assert first.url == reverse("task_detail", args=[child.id])
    assert f'id="task-{child.id}"' in second.content.decode()
    assert "Already pressed moments ago" in second.content.decode()


def test_after_the_window_the_same_button_submits_again(presser, simulator, settings):
    settings.MJ_PRESS_WINDOW_SECONDS = 0
    grid = _finished(simulator)
    _press(presser, grid, "U2")
    _press(presser, grid, "U2")

    assert simulator.calls["action"] == 2
    assert Task.objects.filter(parent_id=grid).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_browsers_pressing_at_once_submit_once_and_both_see_the_child(simulator, user, django_user_model):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    bob = django_user_model.objects.create_user("bob", is_staff=True)
    grid = _finished(simulator)
    custom_id = _custom_id(grid, "U3")
    simulator.latency = 0.4  # both requests are in flight at the same time
    clients = [Client(), Client()]
    clients[0].force_login(user)
    clients[1].force_login(bob)
    answers, barrier = [None, None], threading.Barrier(2)

    def press(n):
        barrier.wait(timeout=30)
        try:
            answers[n] = clients[n].post(reverse("task_action", args=[grid]), {"custom_id": custom_id})
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=press, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads), "a press did not end within 20 s"

    child = Task.objects.get(parent_id=grid)
    assert simulator.calls["action"] == 1
    assert [a.status_code for a in answers] == [302, 302]
    assert {a.url for a in answers} == {reverse("task_detail", args=[child.id])}
    assert Press.objects.get(task_id=grid).child_ids == [child.id]


# ---- who may press -------------------------------------------------------------------


def test_a_user_without_the_permission_sees_disabled_buttons_and_is_refused(logged_in, simulator):
    grid = _finished(simulator)
    html = logged_in.get(reverse("task_list"), {"ids": grid}).content.decode()
    assert "ask an admin for the “press buttons” permission" in html
    assert 'disabled aria-describedby="press-why-' in html

    response = _press(logged_in, grid, "U1")
    assert response.status_code == 403
    assert sum(simulator.calls.values()) == 0


def test_staff_may_press_without_an_explicit_grant(client, simulator, django_user_model):
    client.force_login(django_user_model.objects.create_user("carol", is_staff=True))
    grid = _finished(simulator)
    html = client.get(reverse("task_detail", args=[grid])).content.decode()
    assert "press-why" not in html
    assert _press(client, grid, "U1").status_code == 302


def test_a_press_needs_the_csrf_token(simulator, user):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    grid = _finished(simulator)
    url = reverse("task_action", args=[grid])

    refused = browser.post(url, {"custom_id": _custom_id(grid, "U1")})
    assert refused.status_code == 403
    assert simulator.calls["action"] == 0

    browser.get(reverse("task_detail", args=[grid]))
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(url, {"custom_id": _custom_id(grid, "U1"), "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    assert simulator.calls["action"] == 1


def test_presses_are_rate_limited_per_user(presser, simulator, settings):
    settings.MJ_PRESS_RATE, settings.MJ_PRESS_RATE_LIMIT = "2/min", (2, 60)
    grid = _finished(simulator)
    assert _press(presser, grid, "U1").status_code == 302
    assert _press(presser, grid, "U2").status_code == 302
    refused = _press(presser, grid, "U3", HTTP_HX_REQUEST="true")

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many presses" in refused.content.decode()
    assert simulator.calls["action"] == 2


# ---- MODAL: Vary (Region), cancel ----------------------------------------------------------


def _modal(presser, simulator):
    up = _upscale(simulator)
    _press(presser, up, "Vary (Region)")
    simulator.reset_counters()
    return Task.objects.get(parent_id=up)


def test_a_modal_form_with_a_rectangle_sends_the_png_mask(presser, simulator):
    modal = _modal(presser, simulator)
    response = presser.post(
        reverse("task_modal", args=[modal.id]),
        {"prompt": "a lighthouse, stormy sky", "rects": "100,200,300,50", "width": "1024", "height": "1024"},
    )

    assert response.status_code == 302
    assert simulator.calls["modal"] == 1
    body = simulator.received[0][1]
    assert body["taskId"] == modal.id and body["prompt"] == "a lighthouse, stormy sky"
    header, data = simulator.masks()[0].split(",", 1)
    assert header == "data:image/png;base64"
    mask = Image.open(io.BytesIO(base64.b64decode(data)))
    assert mask.format == "PNG" and mask.size == (1024, 1024)
    grey = mask.convert("L")
    assert grey.getpixel((100, 200)) == 255 and grey.getpixel((399, 249)) == 255
    assert grey.getpixel((99, 200)) == 0 and grey.getpixel((400, 249)) == 0 and grey.getpixel((250, 250)) == 0
    modal.refresh_from_db()
    assert modal.status == "SUBMITTED" and modal.last_fetched is None
    assert simulator.payload(modal.id)["status"] in ("NOT_START", "SUBMITTED")


def test_a_modal_form_accepts_an_uploaded_mask(presser, simulator):
    modal = _modal(presser, simulator)
    drawn = Image.new("RGB", (1024, 1024), "black")
    drawn.paste((250, 250, 250), (0, 0, 10, 10))
    upload = io.BytesIO()
    drawn.save(upload, "PNG")
    upload.name = "mask.png"
    upload.seek(0)
    presser.post(reverse("task_modal", args=[modal.id]), {"prompt": "x", "mask": upload})

    mask = Image.open(io.BytesIO(base64.b64decode(simulator.masks()[0].split(",", 1)[1]))).convert("L")
    assert mask.getpixel((5, 5)) == 255 and mask.getpixel((50, 50)) == 0


@pytest.mark.parametrize("rects", ["", "1,2,3", "5000,5000,10,10"])
def test_a_vary_region_without_a_usable_rectangle_is_refused(presser, simulator, rects):
    modal = _modal(presser, simulator)
    response = presser.post(reverse("task_modal", args=[modal.id]), {"prompt": "x", "rects": rects})
    assert response.status_code == 400
    assert simulator.calls["modal"] == 0


def test_abandoning_a_modal_form_cancels_the_task_at_the_relay(presser, simulator):
    modal = _modal(presser, simulator)
    response = presser.post(reverse("task_cancel", args=[modal.id]), follow=True)

    assert simulator.calls["cancel"] == 1
    assert simulator.payload(modal.id)["status"] == "CANCEL"
    modal.refresh_from_db()
    assert modal.status == "CANCEL"
    assert any("was cancelled" in message for message in _messages(response))


# ---- lineage and layout --------------------------------------------------------------------


def test_the_detail_page_shows_the_parent_and_the_children(presser, simulator):
    grid = _finished(simulator)
    _press(presser, grid, "U2")
    child = Task.objects.get(parent_id=grid)

    parent_page = presser.get(reverse("task_detail", args=[grid])).content.decode()
    assert "Children" in parent_page and f'id="task-{child.id}"' in parent_page
    child_page = presser.get(reverse("task_detail", args=[child.id])).content.decode()
    assert f'href="{reverse("task_detail", args=[grid])}"' in child_page and "U2 of" in child_page


def test_a_button_pressed_before_shows_as_used(presser, simulator):
    grid = _finished(simulator)
    _press(presser, grid, "U2")
    services.task_lookup(ids=[grid], force=True)

    html = presser.get(reverse("task_list"), {"ids": grid}).content.decode()
    assert html.count('class="used"') == 1
    assert "(pressed before)" in html


def test_buttons_are_grouped_as_midjourney_shows_them_and_unknown_ones_kept():
    buttons = [
        {"customId": "MJ::JOB::upsample_v6_2x_subtle::1::h::SOLO", "label": "Upscale (Subtle)"},
        {"customId": "MJ::JOB::low_variation::1::h::SOLO", "label": "Vary (Subtle)", "emoji": "🪄"},
        {"customId": "MJ::Inpaint::1::h::SOLO", "label": "Vary (Region)"},
        {"customId": "MJ::Outpaint::50::1::h::SOLO", "label": "Zoom Out 2x"},
        {"customId": "MJ::CustomZoom::h", "label": "Custom Zoom"},
        {"customId": "MJ::JOB::pan_left::1::h::SOLO", "emoji": "⬅️"},
        {"customId": "MJ::BOOKMARK::h", "emoji": "❤️"},
        {"customId": "MJ::Something::New", "label": "Web", "style": 3},
        {"customId": "MJ::JOB::upsample::2::h", "label": "U2"},
        {"customId": "MJ::JOB::reroll::0::h::SOLO", "emoji": "🔄"},
        {"customId": "MJ::JOB::variation::4::h", "label": "V4"},
    ]
    rows = {row.key: [b.text for b in row.buttons] for row in button_rows(buttons)}
    assert rows == {
        "u": ["U2", "🔄"],
        "v": ["V4"],
        "upscale": ["Upscale (Subtle)"],
        "vary": ["🪄 Vary (Subtle)", "Vary (Region)"],
        "zoom": ["Zoom Out 2x", "Custom Zoom"],
        "pan": ["⬅️"],
        "extra": ["❤️"],
        "other": ["Web"],
    }
    assert [row.key for row in button_rows(buttons)][:2] == ["u", "v"]
    assert button_rows(buttons)[-1].buttons[0].used


def test_absurd_numbers_in_a_mask_form_are_refused_with_a_message_not_a_crash():
    from tasks_app.buttons import masks

    assert masks.image_size("1e400", "1024") == (masks.DEFAULT_SIZE, masks.DEFAULT_SIZE)
    with pytest.raises(masks.MaskError):
        masks.parse_rects(f"{'9' * 400},0,10,10", size=(1024, 1024))
