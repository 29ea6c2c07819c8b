"""What a person clicks, in a real Chromium: paste IDs, see the cards."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pasting_ids_saves_a_set_and_lands_on_its_short_shareable_address(
    browser_login, simulator, screenshot
):
    ids = [simulator.add_task(prompt=f"a red fox {i}", run=1.0, queued=0.0) for i in range(3)]
    simulator.clock.advance(120)
    page = browser_login("/")

    page.fill("textarea[name=ids]", f"look at these: {ids[0]}, {ids[1]}\n{ids[2]} {ids[0]}")
    page.click("text=Show tasks")

    expect(page.locator("article.card")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"/s/[A-Za-z0-9_-]{8,16}/$"))
    expect(page.locator(".msg")).to_contain_text("1 duplicate")
    expect(page.locator(f"#task-{ids[1]} .badge")).to_have_text("Success")
    screenshot("lookup-results")

    page.reload()
    expect(page.locator("article.card")).to_have_count(3)


def test_a_bad_paste_keeps_the_text_and_lists_the_rejects(browser_login, screenshot):
    page = browser_login("/")
    page.fill("textarea[name=ids]", "hello 42")
    page.click("text=Show tasks")

    expect(page.locator(".banner-error")).to_contain_text("No task IDs found")
    expect(page.locator("textarea[name=ids]")).to_have_value("hello 42")
    screenshot("lookup-error")


def test_the_language_switch_turns_the_page_chinese(browser_login):
    page = browser_login("/")
    page.click("button[name=language][value=zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("button.primary[type=submit]").first).to_have_text("显示任务")


def test_a_looking_up_card_is_filled_in_by_the_poller(browser_login, simulator, settings, screenshot):
    settings.MJ_LOOKUP_WAIT_SECONDS = 0  # the page answers before the worker has looked it up...
    settings.MJ_POLL_INTERVAL = 0.5
    task_id = simulator.add_task(prompt="a lantern in the fog", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    simulator.set_fault("timeout", routes="list", times=1)  # ...which takes the relay a while
    page = browser_login(f"/tasks/?ids={task_id}", looked_up=False)

    card = page.locator(f"#task-{task_id}")
    expect(card).to_have_class(re.compile(r"\bcard-lookup\b"))
    expect(card).to_contain_text("looking up")
    screenshot("lookup-looking-up")

    expect(card).not_to_have_class(re.compile(r"\bcard-lookup\b"), timeout=20_000)
    expect(card.locator(".prompt")).to_have_text("a lantern in the fog")
    expect(card.locator(".badge")).to_have_text("Success")
    assert simulator.calls["list"] == 2  # the slow answer and its retry, by the worker: one lookup
