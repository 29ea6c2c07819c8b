"""What a person sees, in a real Chromium: a running card moves by itself, then goes quiet."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_running_card_moves_by_itself_and_polling_stops_when_all_are_final(
    browser_login, simulator, settings, screenshot
):
    settings.MJ_POLL_INTERVAL = 0.3
    running = simulator.add_task(prompt="a lighthouse in a storm", queued=0.0, run=40.0)
    finished = simulator.add_task(prompt="a quiet harbour", queued=0.0, run=30.0, ago=120)
    simulator.clock.advance(5)
    page = browser_login(f"/tasks/?ids={running},{finished}")
    card = page.locator(f"#task-{running}")
    expect(card.locator(".pct")).to_have_text("9%")
    expect(page.locator(f"#task-{finished} .duration")).to_have_text("30 s")

    simulator.clock.advance(10)
    expect(card.locator(".pct")).to_have_text("34%")  # no reload: the poller swapped the card
    expect(card.locator("progress")).to_have_attribute("value", "34")
    screenshot("live-progress")

    simulator.clock.advance(60)
    expect(card.locator(".badge")).to_have_text("Success")
    expect(card.locator(".duration")).to_have_text("40 s")
    # Quiet once the task is final and its image archived by the worker.
    expect(page.locator("#poller")).to_have_attribute("hx-trigger", "mjdash:poll", timeout=30_000)
    calls = simulator.calls["list"]
    page.wait_for_timeout(1200)
    assert simulator.calls["list"] == calls  # polling stopped
    screenshot("live-finished")


def test_the_refresh_control_swaps_the_card_in_place(browser_login, simulator):
    task_id = simulator.add_task(queued=0.0, run=1.0)
    simulator.clock.advance(30)
    page = browser_login(f"/tasks/?ids={task_id}")
    # Looked up by the worker (the poller fills the card in if the page came first).
    expect(page.locator(f"#task-{task_id} .badge")).to_have_text("Success", timeout=20_000)
    page.wait_for_load_state("load")  # htmx (deferred) is running: the click is an htmx post, not a plain one
    simulator.reset_counters()
    with page.expect_response(lambda response: response.url.endswith(f"/tasks/{task_id}/refresh")) as answer:
        page.locator(f"#task-{task_id} .refresh-button").click()
    assert answer.value.headers["hx-retarget"] == f"#task-{task_id}"  # the whole card, swapped in place
    expect(page.locator(f"#task-{task_id} .badge")).to_have_text("Success")
    expect(page.locator(f"#task-{task_id} form.buttons")).to_have_count(1)
    # Asked by the worker's lookup job; the card's answer waited for it at most a second.
    page.wait_for_timeout(100)
    for _ in range(200):
        if simulator.calls["list"]:
            break
        page.wait_for_timeout(100)
    assert simulator.calls["list"] == 1
    assert page.url.endswith(f"/tasks/?ids={task_id}")


def test_the_detail_page_moves_and_reloads_when_its_task_finishes(
    browser_login, simulator, settings, screenshot
):
    settings.MJ_POLL_INTERVAL = 0.3
    task_id = simulator.add_task(prompt="a paper boat on a puddle", queued=0.0, run=40.0)
    simulator.clock.advance(5)
    page = browser_login(f"/tasks/{task_id}/")
    expect(page.locator(".live .pct")).to_have_text("9%")

    simulator.clock.advance(20)
    expect(page.locator(".live .pct")).to_have_text("59%")
    expect(page.locator(".live .badge")).to_have_text("In progress")
    screenshot("live-detail-running")

    simulator.clock.advance(60)
    expect(page.locator(".live .badge")).to_have_text("Success")
    expect(page.locator(".detail .duration")).to_have_text("40 s")
    screenshot("live-detail-finished")


def test_a_stalled_card_says_so_and_the_failing_relay_shows_a_banner(
    browser_login, simulator, settings, screenshot
):
    from datetime import timedelta

    from django.utils import timezone

    from tasks_app import services
    from tasks_app.models import Task

    settings.MJ_POLL_INTERVAL = 0.3
    stuck = simulator.add_task(prompt="a stuck job", status="IN_PROGRESS", ago=20, run=100.0)
    running = simulator.add_task(prompt="a moving job", queued=0.0, run=100.0)
    simulator.clock.advance(5)
    services.task_lookup(ids=[stuck, running])
    Task.objects.filter(id=stuck).update(changed_at=timezone.now() - timedelta(minutes=14))
    page = browser_login(f"/tasks/?ids={stuck},{running}")
    expect(page.locator(f"#task-{stuck} .stalled")).to_have_text("stalled for 14 min")

    simulator.set_fault("500", times=1000)
    expect(page.locator("#upstream-banner .banner-error")).to_be_visible()
    expect(page.locator("#poller")).to_have_attribute("hx-trigger", "every 600ms, mjdash:poll")
    screenshot("live-stalled-and-failing")
    simulator.clear_faults()
    expect(page.locator("#upstream-banner .banner-error")).to_have_count(0, timeout=10000)
    expect(page.locator("#poller")).to_have_attribute("hx-trigger", "every 300ms, mjdash:poll")
