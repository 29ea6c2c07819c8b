"""The Create page in a real Chromium against the simulator, with a real worker:
each kind end to end (submit, live card, finished result) at 1440x900 and
390x844 in English and Chinese; a double submit, a banned prompt and uploads
refused before anything is sent, each at both sizes and in both languages;
images pasted and dropped; reuse from history, a card and the controls."""

import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from tasks_app.models import Task
from tests.browser import SIZES
from tests.browser.fit import misfits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = {"en": "en-US,en", "zh": "zh-CN,zh"}
SLOW = 30_000  # a worker sends, follows and archives on a small shared machine


@pytest.fixture
def alice_may_press(alice_may_press, settings):
    # The worker answers within this (it may be busy with a follow tick): each
    # submit comes back settled, so the flows read the same on a busy machine.
    settings.MJ_PRESS_ANSWER_SECONDS = 15


def image(color="red", size=(64, 48), fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def files(*colors):
    """Pictures as a browser picks them."""
    return [{"name": f"{color}.png", "mimeType": "image/png", "buffer": image(color)} for color in colors]


def open_create(page, browser_login, *, size="desktop", lang="en", path="/create/"):
    page.set_viewport_size(SIZES[size])
    page.context.set_extra_http_headers({"Accept-Language": LANGUAGES[lang]})
    browser_login(path)
    page.wait_for_url("**/create/**")
    page.wait_for_load_state("load")  # create.js (deferred) has set the image input up
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans" if lang == "zh" else "en")
    return page


def submit(page):
    with page.expect_navigation():
        page.locator("button.create-submit").click()


def card_of(page, kind: str):
    task = Task.objects.filter(pressed_custom_id=f"create:{kind}").order_by("-first_seen").first()
    assert task is not None, f"no {kind} task was created"
    return task, page.locator(f"#task-{task.id}")


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("size", list(SIZES))
def test_each_kind_goes_from_submit_to_a_live_card_to_its_result(
    alice_may_press, page, browser_login, simulator, live_server, screenshot, size, lang
):
    open_create(page, browser_login, size=size, lang=lang)

    page.fill("#create-prompt", "a lighthouse on a cliff at dusk --ar 3:2")
    page.set_input_files("#create-images", files("teal"))
    expect(page.locator(".previews li")).to_have_count(1)
    submit(page)
    imagine, imagine_card = card_of(page, "imagine")
    expect(imagine_card).to_be_visible()
    assert imagine_card.get_attribute("data-poll-id") == imagine.id  # live: the page's poller follows it

    page.locator("a[href='?kind=blend']").click()
    page.set_input_files("#create-images", files("red", "blue"))
    expect(page.locator(".previews li")).to_have_count(2)
    page.locator("input[name=dimensions][value=LANDSCAPE]").check()
    submit(page)
    page.locator("a[href='?kind=describe']").click()
    page.set_input_files("#create-images", files("green"))
    submit(page)
    page.locator("a[href='?kind=shorten']").click()
    page.fill("#create-prompt", "an old lighthouse keeper reading by lamplight in a storm, oil painting")
    submit(page)
    expect(page.locator("#task-grid > article.card")).to_have_count(4)
    assert [route for route, _body in simulator.received] == ["imagine", "blend", "describe", "shorten"]
    assert misfits(page, SIZES[size]["width"]) == []
    screenshot(f"create-submitted-{size}-{lang}")

    simulator.clock.advance(120)  # every job finishes at the relay; the page learns it by itself
    for kind in ("imagine", "blend", "describe"):
        _task, card = card_of(page, kind)
        expect(card.locator("img.thumb-img")).to_be_visible(timeout=SLOW)
    _describe, describe_card = card_of(page, "describe")
    expect(describe_card.locator(".result-prompts li")).to_have_count(4, timeout=SLOW)
    _shorten, shorten_card = card_of(page, "shorten")
    expect(shorten_card.locator(".result-prompts li")).to_have_count(5, timeout=SLOW)
    assert misfits(page, SIZES[size]["width"]) == []
    screenshot(f"create-finished-{size}-{lang}")

    second = describe_card.locator(".result-text").nth(1).inner_text()
    describe_card.locator(".result-prompts li").nth(1).locator("a").click()
    expect(page.locator("#create-prompt")).to_have_value(second)
    assert simulator.calls["imagine"] == 1  # "Imagine this" fills the form; only a submit is paid


# Each edge case at both sizes and in both languages: a desktop in one, a phone in the other.
EDGES = [("desktop", "en"), ("phone", "zh")]
WORDS = {
    "en": {"again": "Already submitted moments ago:", "banned": "banned word", "type": "PNG, JPEG or WebP"},
    "zh": {"again": "刚刚已经提交过：", "banned": "违禁词", "type": "PNG、JPEG 或 WebP"},
}
WORDS["en"]["large"], WORDS["zh"]["large"] = "too large", "太大"


@pytest.mark.parametrize(("size", "lang"), EDGES)
def test_a_double_click_and_the_same_submit_from_a_second_tab_reach_the_relay_once(
    alice_may_press, page, browser_login, simulator, live_server, size, lang
):
    open_create(page, browser_login, size=size, lang=lang)
    posts = []
    page.context.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/create/") else None,
    )
    page.fill("#create-prompt", "a red fox in the snow")
    page.locator("button.create-submit").dblclick()
    expect(page.locator("#task-grid > article.card")).to_have_count(1, timeout=SLOW)

    other = page.context.new_page()  # the same person, another tab, the same submit moments later
    other.goto(f"{live_server.url}/create/")
    other.fill("#create-prompt", "a red fox in the snow")
    with other.expect_navigation():
        other.locator("button.create-submit").click()

    expect(other.locator(".messages")).to_contain_text(WORDS[lang]["again"])
    expect(other.locator("#task-grid > article.card")).to_have_count(1)
    assert len(posts) >= 2  # the browser sent at least two
    assert simulator.calls["imagine"] == 1  # the relay was asked once
    assert Task.objects.filter(pressed_custom_id="create:imagine").count() == 1
    other.close()


@pytest.mark.parametrize(("size", "lang"), [("phone", "zh"), ("desktop", "en")])
def test_a_banned_prompt_says_so_in_the_persons_language_and_keeps_the_prompt(
    alice_may_press, page, browser_login, simulator, screenshot, size, lang
):
    open_create(page, browser_login, size=size, lang=lang)
    page.fill("#create-prompt", "a banned castle --ar 2:3")
    submit(page)

    expect(page.locator("#create-error")).to_contain_text(WORDS[lang]["banned"])
    expect(page.locator("#create-prompt")).to_have_value("a banned castle --ar 2:3")
    expect(page.locator("select[name=version]")).to_be_visible()
    expect(page.locator("input[name=ar]")).to_have_value("2:3")
    expect(page.locator("#task-grid > article.card")).to_have_count(0)
    assert simulator.calls["imagine"] == 1  # asked once, refused: nothing started
    screenshot(f"create-banned-{size}-{lang}")


@pytest.mark.parametrize(("size", "lang"), EDGES)
def test_an_upload_that_is_not_an_image_or_too_large_is_refused_before_anything_is_sent(
    alice_may_press, page, browser_login, simulator, settings, screenshot, size, lang
):
    settings.MJ_UPLOAD_MAX_BYTES = 20_000
    open_create(page, browser_login, size=size, lang=lang, path="/create/?kind=describe")
    page.set_input_files(
        "#create-images", [{"name": "notes.png", "mimeType": "application/pdf", "buffer": b"%PDF-1.7"}]
    )
    expect(page.locator("#images-error")).to_contain_text("notes.png")
    expect(page.locator("#images-error")).to_contain_text(WORDS[lang]["type"])
    expect(page.locator(".previews li")).to_have_count(0)

    big = image(size=(400, 400), fmt="BMP")  # 480 KB of pixels, typed as a PNG
    page.set_input_files("#create-images", [{"name": "huge.png", "mimeType": "image/png", "buffer": big}])
    expect(page.locator("#images-error")).to_contain_text("huge.png")
    expect(page.locator("#images-error")).to_contain_text(WORDS[lang]["large"])
    assert misfits(page, SIZES[size]["width"]) == []
    screenshot(f"create-upload-refused-{size}-{lang}")
    page.locator("button.create-submit").click()  # the file input is empty and required: nothing posts

    expect(page.locator("#create-images")).to_be_focused()
    assert sum(simulator.calls.values()) == 0


PASTE = """([name, bytes]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], name, { type: "image/png" }));
    document.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
}"""
DROP = """([name, bytes]) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], name, { type: "image/png" }));
    const box = document.querySelector("[data-images]");
    box.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
}"""


@pytest.mark.parametrize(("size", "lang"), [("phone", "en"), ("desktop", "zh")])
def test_a_pasted_and_a_dropped_image_are_blended_like_picked_ones(
    alice_may_press, page, browser_login, simulator, size, lang
):
    open_create(page, browser_login, size=size, lang=lang, path="/create/?kind=blend")
    # A screenshot pasted from the clipboard arrives named "image.png": it is named
    # for what it is. A file dragged from the desktop keeps its name.
    page.evaluate(PASTE, ["image.png", list(image("orange"))])
    page.evaluate(DROP, ["sketch.png", list(image("navy"))])

    expect(page.locator(".previews li")).to_have_count(2)
    expect(page.locator(".previews")).to_contain_text("pasted-1.png")
    expect(page.locator(".previews")).to_contain_text("sketch.png")
    submit(page)

    assert [route for route, _body in simulator.received] == ["blend"]
    sent = simulator.received[0][1]["base64Array"]
    assert len(sent) == 2 and all(uri.startswith("data:image/png;base64,") for uri in sent)


def test_reuse_from_history_the_controls_and_a_cards_run_again(
    alice_may_press, page, browser_login, simulator, settings, screenshot
):
    # The same submit again within the window is taken for a double press (one job):
    # "Run again" here comes seconds after the first, so the window is closed.
    settings.MJ_PRESS_WINDOW_SECONDS = 0
    open_create(page, browser_login, size="phone")
    for prompt in ("a red fox", "a blue whale --ar 16:9"):
        page.fill("#create-prompt", prompt)
        submit(page)
    expect(page.locator(".history-prompt")).to_have_count(2)

    page.fill("#history-q", "whale")
    expect(page.locator(".history-prompt")).to_have_count(1)
    page.locator(".history-list a.use").click()
    expect(page.locator("#create-prompt")).to_have_value("a blue whale --ar 16:9")
    expect(page.locator("input[name=ar]")).to_have_value("16:9")  # the controls read the prompt

    page.locator("select[name=version]").select_option("niji 6")
    expect(page.locator("#create-prompt")).to_have_value("a blue whale --ar 16:9 --niji 6")
    page.wait_for_load_state("networkidle")  # the control's answer is in: the prompt is the one to edit
    page.locator("#create-prompt").press("End")
    page.locator("#create-prompt").press_sequentially(" --tile")
    expect(page.locator("input[name=tile]")).to_be_checked()
    screenshot("create-history-phone")

    simulator.clock.advance(120)
    whale = Task.objects.get(prompt="a blue whale --ar 16:9")
    card = page.locator(f"#task-{whale.id}")
    expect(card.locator(".reuse button")).to_be_visible(timeout=SLOW)
    card.locator(".reuse button").click()
    expect(card.locator(".press-result")).to_contain_text("Started:", timeout=SLOW)
    expect(page.locator("#task-grid > article.card")).to_have_count(3)
    assert simulator.calls["imagine"] == 3
    assert simulator.received[-1][1]["prompt"] == "a blue whale --ar 16:9"


@pytest.fixture
def late_relay(user, settings, simulator):
    """A relay that answers a submit after 2 s, to a page that waits 0.2 s: each
    submit comes back "sent". Set before the worker starts (browser_login)."""
    user.is_staff = True
    user.save()
    settings.MJ_PRESS_ANSWER_SECONDS = 0.2
    settings.MJ_READ_TIMEOUT = 5.0  # the worker's deadlines outlast the relay's delay
    settings.MJ_RELAY_DEADLINE = 10.0
    simulator.after_submit.append(lambda route, body: time.sleep(2.0))


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_a_submit_the_relay_answers_late_shows_as_sent_then_becomes_its_card(
    late_relay, page, browser_login, simulator, screenshot, lang
):
    open_create(page, browser_login, size="phone", lang=lang)

    page.fill("#create-prompt", "a paper boat on a puddle")
    submit(page)

    pending = page.locator(".pending-list li.press-msg")
    expect(pending).to_have_count(1)
    expect(pending.locator(".spinner")).to_be_attached()
    expect(pending).to_contain_text("a paper boat on a puddle")
    screenshot(f"create-pending-phone-{lang}")
    # The page asks every 2 s: once the relay answered, the line names the new task
    # and its live card is at the top of "Created", without a reload.
    card = page.locator("#task-grid > article.card")
    expect(card).to_have_count(1, timeout=SLOW)
    task = Task.objects.get(pressed_custom_id="create:imagine")
    expect(pending).to_contain_text(task.id)
    assert card.get_attribute("id") == f"task-{task.id}"
    assert simulator.calls["imagine"] == 1
    assert misfits(page, SIZES["phone"]["width"]) == []


def test_a_late_refusal_replaces_the_sent_line_and_offers_the_prompt_back(
    late_relay, page, browser_login, simulator
):
    open_create(page, browser_login)

    page.fill("#create-prompt", "a banned tower at noon --ar 3:2")
    submit(page)
    pending = page.locator(".pending-list li.press-msg")
    expect(pending.locator(".spinner")).to_be_attached()

    expect(pending).to_have_class(re.compile(r"\bpress-error\b"), timeout=SLOW)
    expect(pending).to_contain_text("banned")
    pending.locator("a", has_text="Edit and submit again").click()
    expect(page.locator("#create-prompt")).to_have_value("a banned tower at noon --ar 3:2")
    expect(page.locator("input[name=ar]")).to_have_value("3:2")
    expect(page.locator("#task-grid > article.card")).to_have_count(0)
