"""The Create page against the simulator: each kind end to end, one submit per
press, refusals with the prompt kept, uploads checked before anything is sent,
the Created view, prompt history, reuse from any task."""

import base64
import io
import os
import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tasks_app import services
from tasks_app.buttons import reconcile
from tasks_app.models import Press, Task

pytestmark = pytest.mark.django_db
CREATE = "/create/"


@pytest.fixture
def presser(client, user):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    client.force_login(user)
    return client


def png(name="ref.png", color="red", size=(48, 32)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def error_of(response) -> str:
    found = re.search(r'class="form-error"[^>]*>([^<]*)<', response.content.decode())
    return found.group(1) if found else ""


def finish(simulator, seconds=120):
    simulator.clock.advance(seconds)
    services.task_lookup(ids=list(Task.objects.values_list("pk", flat=True)), force=True)


def test_an_imagine_starts_one_job_whose_live_card_is_at_the_top_of_created_and_in_the_archive(
    presser, user, simulator
):
    response = presser.post(CREATE, {"kind": "imagine", "prompt": "a fox in snow", "ar": "3:2", "seed": "7"})

    assert response.status_code == 302 and response["Location"].startswith("/create/?kind=imagine")
    [(route, body)] = simulator.received
    assert route == "imagine" and body["prompt"] == "a fox in snow --ar 3:2 --seed 7"
    assert body["state"].startswith("mjdash-press-") and body["base64Array"] == []
    task = Task.objects.get()
    assert (task.pressed_by, task.pressed_custom_id, task.parent) == (user, "create:imagine", None)
    page = presser.get(response["Location"]).content.decode()
    assert f'id="task-{task.id}"' in page and f'data-poll-id="{task.id}"' in page  # live
    # Before the relay's first answer the card names what it is, not "?".
    assert task.action == "IMAGINE" and '<span class="action">IMAGINE</span>' in page
    assert "Started:" in page
    assert f'id="task-{task.id}"' in presser.get(reverse("task_list")).content.decode()
    finish(simulator)
    task.refresh_from_db()
    assert task.status == "SUCCESS" and task.image_url


def test_each_kinds_new_task_is_named_by_its_kind_before_the_relay_answers(presser, simulator):
    presser.post(CREATE, {"kind": "imagine", "prompt": "a fox in snow"})
    presser.post(CREATE, {"kind": "blend", "images": [png(), png("b.png", "blue")], "dimensions": "SQUARE"})
    presser.post(CREATE, {"kind": "describe", "images": [png()]})
    presser.post(CREATE, {"kind": "shorten", "prompt": "an old lighthouse keeper in a storm"})

    actions = dict(Task.objects.values_list("pressed_custom_id", "action"))
    assert actions == {
        "create:imagine": "IMAGINE",
        "create:blend": "BLEND",
        "create:describe": "DESCRIBE",
        "create:shorten": "SHORTEN",
    }
    assert "?</span>" not in presser.get(CREATE).content.decode()


def test_the_same_submit_twice_reaches_the_relay_once_and_says_so(presser, simulator):
    form = {"kind": "imagine", "prompt": "a lighthouse at dusk"}
    first = presser.post(CREATE, form)
    second = presser.post(CREATE, form, follow=True)

    assert first.status_code == 302
    assert simulator.calls["imagine"] == 1 and Task.objects.count() == 1
    assert "Already submitted moments ago:" in second.content.decode()
    assert presser.post(CREATE, {**form, "prompt": "a lighthouse at dawn"}).status_code == 302
    assert simulator.calls["imagine"] == 2  # a different prompt is a different job


def test_a_retry_after_a_timeout_is_not_sent_again_and_the_pushed_task_is_adopted(
    presser, simulator, settings
):
    simulator.set_fault("timeout", routes=("imagine",))
    form = {"kind": "imagine", "prompt": "a slow relay"}
    presser.post(CREATE, form)
    press = Press.objects.get()
    assert press.state == "pending" and press.marker and press.request == {}  # the images went with it
    presser.post(CREATE, form)
    assert simulator.calls["imagine"] == 1

    # The relay did start it (the timeout fault dropped only its answer): its
    # task carries the marker, and a push of it is confirmed and adopted.
    task_id = simulator.add_task(prompt="a slow relay", state=press.marker)
    assert reconcile.adopt(task_id=task_id, marker=press.marker) == "adopted"
    press.refresh_from_db()
    assert press.state == "done" and press.child_ids == [task_id]
    assert Task.objects.get(pk=task_id).pressed_custom_id == "create:imagine"


def test_a_banned_word_says_so_keeps_the_prompt_and_starts_nothing(presser, simulator):
    response = presser.post(CREATE, {"kind": "imagine", "prompt": "a banned castle --ar 2:3"})

    assert response.status_code == 400
    assert "banned word" in error_of(response) and "“banned”" in error_of(response)
    assert ">a banned castle --ar 2:3</textarea>" in response.content.decode()
    assert Task.objects.count() == 0
    assert "a banned castle --ar 2:3" in presser.get(CREATE).content.decode()  # in the history too


def test_a_full_queue_is_told_in_the_persons_language(presser, simulator):
    simulator.force_code(23)
    response = presser.post(CREATE, {"kind": "shorten", "prompt": "a cat"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "队列" in error_of(response) and "Queue full" in error_of(response)  # ours, then the relay's words


@pytest.mark.parametrize(
    ("file", "says"),
    [
        (SimpleUploadedFile("notes.png", b"%PDF-1.7 not a picture", content_type="image/png"), "not a PNG"),
        (SimpleUploadedFile("huge.png", b"\x89PNG" + b"\0" * 5000, content_type="image/png"), "at most"),
    ],
    ids=["not an image", "too large"],
)
def test_a_bad_upload_is_refused_clearly_and_nothing_is_sent(presser, simulator, settings, file, says):
    settings.MJ_UPLOAD_MAX_BYTES = 4096
    response = presser.post(CREATE, {"kind": "describe", "images": [file]})
    assert response.status_code == 400
    assert says in error_of(response) and file.name in error_of(response)
    assert sum(simulator.calls.values()) == 0 and Press.objects.count() == 0


def test_blend_sends_two_to_five_cleaned_images_in_the_chosen_shape(presser, simulator):
    one = presser.post(CREATE, {"kind": "blend", "images": [png()], "dimensions": "SQUARE"})
    assert one.status_code == 400 and "2 to 5" in error_of(one)

    response = presser.post(
        CREATE, {"kind": "blend", "images": [png(), png("b.png", "blue")], "dimensions": "LANDSCAPE"}
    )
    assert response.status_code == 302
    [(route, body)] = simulator.received
    assert route == "blend" and body["dimensions"] == "LANDSCAPE" and len(body["base64Array"]) == 2
    sent = Image.open(io.BytesIO(base64.b64decode(body["base64Array"][1].partition(",")[2])))
    assert sent.getpixel((0, 0)) == (0, 0, 255)
    assert Task.objects.get().pressed_custom_id == "create:blend"


def test_five_references_of_two_megabytes_pass_the_body_limit_and_reach_the_relay(presser, simulator):
    """10 MB of uploads: more than a mask form needs, within the relay's five."""
    side = 1300

    def photo(n):
        data = io.BytesIO()
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(data, "JPEG", quality=95)
        return SimpleUploadedFile(f"photo{n}.jpg", data.getvalue(), content_type="image/jpeg")

    photos = [photo(n) for n in range(5)]
    assert sum(p.size for p in photos) > 9 * 1024 * 1024  # the old limit: a bare 413

    response = presser.post(CREATE, {"kind": "blend", "images": photos, "dimensions": "SQUARE"})

    assert response.status_code == 302
    [(route, body)] = simulator.received
    assert route == "blend" and len(body["base64Array"]) == 5


def test_describe_shows_four_prompts_each_to_imagine_or_copy(presser, simulator):
    presser.post(CREATE, {"kind": "describe", "images": [png()]})
    finish(simulator)
    task = Task.objects.get()
    page = presser.get(CREATE).content.decode()
    card = page[page.index(f'id="task-{task.id}"') :]
    assert card.count("Imagine this") == 4 and card.count('class="copy link" data-copy="') == 4

    form = presser.get(CREATE, {"from": task.id, "pick": 2}).content.decode()
    second = re.findall(r'<span class="result-text">([^<]*)</span>', card)[1]
    assert f">{second}</textarea>" in form


def test_shorten_shows_five_shorter_prompts(presser, simulator):
    prompt = "an old lighthouse keeper reading by lamplight in a storm, oil painting --ar 4:5"
    presser.post(CREATE, {"kind": "shorten", "prompt": prompt})
    finish(simulator)
    page = presser.get(reverse("task_detail", args=[Task.objects.get().id])).content.decode()
    shorter = re.findall(r'<span class="result-text">([^<]*)</span>', page)
    assert len(shorter) == 5 and all(len(s) < len(prompt) and s.endswith("--ar 4:5") for s in shorter)


def test_history_is_searchable_and_one_click_fills_the_form(presser, simulator):
    for prompt in ("a red fox", "a blue whale", "a red panda"):
        presser.post(CREATE, {"kind": "imagine", "prompt": prompt})
    page = presser.get(CREATE, {"q": "red"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="history")
    text = page.content.decode()
    assert text.startswith('\n<div id="history"') or '<div id="history"' in text[:60]
    assert re.findall(r'<span class="history-prompt">([^<]*)<', text) == ["a red panda", "a red fox"]
    use = re.search(r'class="use" href="([^"]*)"', text).group(1).replace("&amp;", "&")
    assert ">a red panda</textarea>" in presser.get(CREATE + use).content.decode()


def test_run_again_uses_the_prompt_and_its_reference_urls(presser, simulator):
    presser.post(CREATE, {"kind": "imagine", "prompt": "a fox", "images": [png()]})
    finish(simulator)
    first = Task.objects.get()
    assert first.prompt_en.startswith("https://s.mj.run/")

    response = presser.post(reverse("create_again", args=[first.id]))
    assert response.status_code == 302
    assert simulator.received[-1][1]["prompt"] == f"{first.prompt_en.split()[0]} a fox"
    assert Task.objects.count() == 2
    detail = presser.get(reverse("task_detail", args=[first.id])).content.decode()
    assert "Use this prompt" in detail and "Vary this prompt" in detail and "Run again" in detail


def test_vary_fills_the_form_with_the_prompt_to_edit(presser, simulator):
    task = Task.objects.create(
        id="1743326750223591", action="UPSCALE", status="SUCCESS", prompt="a fox --v 6"
    )
    page = presser.get(CREATE, {"from": task.id, "vary": 1}).content.decode()
    assert ">a fox --v 6</textarea>" in page and "Varying the prompt of task" in page
    assert 'value="6" selected' in page  # the controls read it back


def test_the_controls_and_the_prompt_stay_in_step_through_one_parser(presser):
    typed = presser.post(reverse("create_params"), {"prompt": "a fox --ar 16:9 --tile"})
    assert 'name="ar" list="aspects" value="16:9"' in typed.content.decode()
    assert 'name="tile" checked' in typed.content.decode()
    changed = presser.post(
        reverse("create_params"), {"prompt": "a fox --ar 16:9 --tile", "changed": "controls", "ar": "2:3"}
    )
    assert ">a fox --ar 2:3</textarea>" in changed.content.decode()
    wrong = presser.post(reverse("create_params"), {"prompt": "a fox", "changed": "controls", "chaos": "400"})
    assert "0 to 100" in wrong.content.decode() and ">a fox</textarea>" in wrong.content.decode()


def test_presses_and_creates_share_one_rate(presser, simulator, settings):
    settings.MJ_PRESS_RATE, settings.MJ_PRESS_RATE_LIMIT = "1/min", (1, 60)
    assert presser.post(CREATE, {"kind": "imagine", "prompt": "one"}).status_code == 302
    refused = presser.post(CREATE, {"kind": "imagine", "prompt": "two"})
    assert refused.status_code == 429 and refused["Retry-After"]
    assert ">two</textarea>" in refused.content.decode() and simulator.calls["imagine"] == 1


def test_someone_who_may_not_press_sees_no_create_entry_and_is_refused(logged_in, simulator):
    assert "create-entry" not in logged_in.get("/").content.decode()
    response = logged_in.post(CREATE, {"kind": "imagine", "prompt": "a fox"})
    assert response.status_code == 403 and sum(simulator.calls.values()) == 0
