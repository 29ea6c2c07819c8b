"""Issue 12 in a real Chromium at 1440x900 and 390x844: pages fit a phone, touch
targets, a press's new card brought into view, times in the viewer's zone, a MODAL
task's card, cancelling from the card, skip link and focus, the error pages."""

import datetime
import re

import pytest
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import Task
from tests.browser import SIZES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP, PHONE = SIZES["desktop"], SIZES["phone"]
LONG_PROMPT = "a" * 1000 + "b" * 1000 + "c" * 1000  # 3,000 characters, no space


def _width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_every_page_fits_a_phone_with_a_long_prompt_and_raw_json(
    alice_may_press, page, browser_login, simulator, live_server, screenshot
):
    long_one = simulator.add_task(prompt=LONG_PROMPT, run=1.0, queued=0.0)
    others = [simulator.add_task(prompt=f"a red fox {i}", run=1.0, queued=0.0) for i in range(2)]
    running = simulator.add_task(prompt=LONG_PROMPT, queued=0.0, run=3600.0)
    simulator.clock.advance(120)
    ids = ",".join([long_one, *others, running])
    page.set_viewport_size(PHONE)
    browser_login(f"/tasks/?ids={ids}")
    expect(page.locator("#task-grid > article.card")).to_have_count(4)
    assert _width(page) <= 390
    screenshot("phone-results")

    page.goto(f"{live_server.url}/tasks/{long_one}/")
    page.locator("details.raw summary").click()
    expect(page.locator("details.raw pre")).to_be_visible()
    assert _width(page) <= 390
    pre = page.locator("details.raw pre")
    assert pre.evaluate("el => el.scrollWidth > el.clientWidth")  # the JSON scrolls in its own box
    assert pre.bounding_box()["width"] <= 390
    screenshot("phone-detail-raw-json")

    page.goto(f"{live_server.url}/")
    assert _width(page) <= 390
    page.goto(f"{live_server.url}/tasks/99999999999999/")
    assert _width(page) <= 390

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/tasks/{long_one}/")
    page.locator("details.raw summary").click()
    assert _width(page) <= 1440
    screenshot("desktop-detail-raw-json")


def test_touch_targets_are_44_px_on_a_phone_and_a_press_brings_its_card_into_view(
    alice_may_press, page, browser_login, simulator, live_server, screenshot
):
    ids = [simulator.add_task(prompt=f"a red fox {i}", run=1.0, queued=0.0) for i in range(4)]
    simulator.clock.advance(120)
    page.set_viewport_size(PHONE)
    browser_login(f"/tasks/?ids={','.join(ids)}")
    expect(page.locator("#task-grid > article.card")).to_have_count(4)
    for button in page.locator(".card .row-u button, .card .row-v button, .card .refresh-button").all():
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box

    last = page.locator(f"#task-{ids[3]} .row-u button", has_text="U2")
    last.scroll_into_view_if_needed()
    last.click()
    # The press is sent by a background worker: give a loaded machine time.
    expect(page.locator("#task-grid > article.card")).to_have_count(5, timeout=20_000)
    child = Task.objects.get(parent_id=ids[3])
    card = page.locator(f"#task-{child.id}")
    expect(card).to_be_in_viewport()
    screenshot("phone-pressed-card-in-view")

    page.goto(f"{live_server.url}/tasks/{ids[0]}/")
    for button in page.locator(".detail-body .row-u button, .detail-body .row-v button").all():
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    screenshot("phone-detail")


@pytest.mark.browser_context_args(timezone_id="Asia/Shanghai", locale="en-US")
def test_times_show_in_the_viewers_zone_named_with_a_relative_time(
    page, browser_login, simulator, live_server, screenshot
):
    done = simulator.add_task(prompt="a red fox", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[done])
    submitted = Task.objects.get(pk=done).submit_time.astimezone(datetime.UTC)
    shanghai = submitted + datetime.timedelta(hours=8)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        browser_login(f"/tasks/{done}/")
        stamp = page.locator(".detail-body .times time").first
        expect(stamp).to_have_attribute("datetime", f"{submitted:%Y-%m-%dT%H:%M:%S}Z")
        expect(stamp).to_contain_text(f"{shanghai:%H:%M:%S}")
        expect(stamp).to_contain_text(re.compile(r"GMT\+8|CST"))
        expect(stamp).to_have_attribute("title", f"{submitted:%Y-%m-%d %H:%M:%S} UTC")
        expect(page.locator(".detail-body .times .ago").first).to_contain_text(re.compile(r"ago|now"))
        screenshot(f"times-shanghai-{size['width']}")


@pytest.mark.browser_context_args(timezone_id="Asia/Shanghai", locale="zh-CN")
def test_relative_times_speak_the_pages_language(page, browser_login, simulator, live_server):
    done = simulator.add_task(prompt="a red fox", run=1.0, queued=0.0, ago=600.0)
    simulator.clock.advance(120)
    browser_login(f"/tasks/{done}/")  # a zh-CN browser gets the Chinese pages
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator(".detail-body .times .ago").first).to_contain_text(re.compile("前|现在"))


def test_a_modal_card_waits_for_details_and_a_running_card_can_be_cancelled(
    alice_may_press, page, browser_login, simulator, live_server, screenshot
):
    modal = simulator.add_task(prompt="a zoomed harbour", action="CUSTOM_ZOOM", status="MODAL")
    running = simulator.add_task(prompt="a slow glacier", queued=0.0, run=3600.0)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        browser_login(f"/tasks/?ids={modal},{running}")
        card = page.locator(f"#task-{modal}")
        expect(card).to_contain_text("waiting for your details")
        expect(card.locator("progress")).to_have_count(0)
        expect(card).not_to_contain_text("stalled")
        screenshot(f"modal-card-{size['width']}")
    card.get_by_role("link", name="Open the form").click()
    expect(page.locator("#modal-form input[name=zoom]")).to_be_visible()
    expect(page.locator("#modal-form")).to_contain_text("--zoom N")
    screenshot("modal-custom-zoom-form-phone")

    page.goto(f"{live_server.url}/tasks/?ids={running}")
    page.locator(f"#task-{running} .cancel-button").click()
    expect(page.locator(".msg")).to_be_visible()
    assert Task.objects.get(pk=running).status == "CANCEL"
    expect(page.locator(".badge").first).to_have_text("Cancelled")


def test_a_skip_link_and_visible_focus(page, browser_login, simulator, live_server, screenshot):
    done = simulator.add_task(prompt="a red fox", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    page.set_viewport_size(PHONE)
    browser_login(f"/tasks/{done}/")  # no autofocus here: the first Tab is the page's first stop
    expect(page.locator("article.detail")).to_be_visible(timeout=20_000)  # the login's redirect landed
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    screenshot("skip-link-focused")
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_the_dashboards_own_404_in_both_languages(
    settings, page, browser_login, simulator, live_server, screenshot
):
    settings.DEBUG = False
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        browser_login("/tasks/99999999999999/")
        expect(page.locator("h1")).to_have_text("Page not found")
        expect(page.get_by_role("link", name="Back to the dashboard")).to_have_attribute("href", "/")
        screenshot(f"error-404-{size['width']}")
    page.goto(f"{live_server.url}/")
    page.click("button[name=language][value=zh-hans]")
    page.goto(f"{live_server.url}/tasks/99999999999999/")
    expect(page.locator("h1")).to_have_text("找不到页面")
    screenshot("error-404-zh")
