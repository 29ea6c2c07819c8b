"""Light pages in a real Chromium (issue 12, points 4 and 7): a press through a
card's one form still works and its button shows as used at once; a hidden
tab sends no polls and catches up when shown; a large set loads as one scrolls."""

import re
import time

import pytest
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import Task, TaskSet
from tasks_app.relay import TaskRecord
from tests.browser import SIZES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"child_of": "U2 of", "pressed": "Pressed before", "count": "14 tasks"},
    "zh-hans": {"child_of": "的 U2", "pressed": "之前已按过", "count": "14 个任务"},
}

SET_VISIBILITY = """state => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => state});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def _open(page, browser_login, base_url, path, size, lang):
    """Log in at this size, pick the language with the page's own switch, open path."""
    page.set_viewport_size(SIZES[size])
    browser_login("/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")
        page.wait_for_load_state()
    page.goto(base_url + path)
    return page


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_press_through_the_cards_one_form_works_and_the_button_shows_used_at_once(
    size, lang, alice_may_press, page, browser_login, live_server, simulator, screenshot
):
    text = TEXT[lang]
    grid = simulator.add_task(prompt="a red fox in the snow", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    page = _open(page, browser_login, live_server.url, f"/tasks/?ids={grid}", size, lang)
    card = page.locator(f"#task-{grid}")
    expect(card.locator("form")).to_have_count(1)
    u2 = card.locator(".row-u button", has_text="U2")
    expect(u2).not_to_have_class(re.compile("used"))

    u2.click()

    child_card = page.locator("#task-grid > article.card").first
    expect(child_card).to_contain_text(text["child_of"], timeout=20_000)
    # Marked by the press's own answer: the parent was not fetched again.
    expect(card.locator(".row-u button", has_text="U2")).to_have_class(re.compile("used"))
    expect(card.locator(".row-u button", has_text="U2")).to_have_attribute(
        "title", re.compile(text["pressed"])
    )
    assert all(grid not in batch for batch in simulator.list_batches[1:])
    assert simulator.calls["action"] == 1
    child = Task.objects.get(parent_id=grid)
    assert child.pressed_custom_id.startswith(
        "MJ::JOB::upsample::2::"
    )  # the whole customId went to the relay
    screenshot(f"weight-pressed-used-{size}-{lang}")


def test_a_hidden_tab_sends_no_polls_and_asks_at_once_when_shown_again(browser_login, simulator, settings):
    settings.MJ_POLL_INTERVAL = 1.5
    running = simulator.add_task(prompt="a slow lighthouse", queued=0.0, run=600.0)
    simulator.clock.advance(5)
    polls: list[float] = []
    page = browser_login(f"/tasks/?ids={running}")
    page.on("request", lambda request: "/tasks/poll" in request.url and polls.append(time.monotonic()))
    page.wait_for_timeout(2000)
    assert polls, "a visible tab polls"

    page.evaluate(SET_VISIBILITY, "hidden")
    page.wait_for_timeout(200)  # one already on its way may land
    hidden_from = len(polls)
    page.wait_for_timeout(4000)  # more than two intervals
    assert len(polls) == hidden_from, "a hidden tab sends no polls"

    shown = time.monotonic()
    with page.expect_request(lambda request: "/tasks/poll" in request.url, timeout=1000):
        page.evaluate(SET_VISIBILITY, "visible")
    assert polls[-1] - shown < 1.0  # at once, not at the next tick


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_large_set_shows_its_first_cards_and_loads_the_rest_as_one_scrolls(
    size, lang, page, browser_login, live_server, simulator, settings, user, screenshot
):
    settings.MJ_SET_PAGE_CARDS = 6
    ids = [str(1750000000000000 + i) for i in range(14)]
    services.task_store(
        records=[TaskRecord(id=i, status="SUCCESS", progress=100, prompt=f"cat {i}") for i in ids]
    )
    task_set = TaskSet.objects.create(slug="bigset", ids=ids, ids_hash="-", created_by=user)
    documents = []
    page.on(
        "response",
        lambda response: response.url.endswith(f"/s/{task_set.slug}/") and documents.append(response),
    )
    page = _open(page, browser_login, live_server.url, f"/s/{task_set.slug}/", size, lang)
    assert documents[-1].text().count('<article class="card') == 6  # the first page only
    cards = page.locator("#task-grid > article.card")
    expect(page.locator(".set-head .meta")).to_contain_text(TEXT[lang]["count"])
    expect(cards.first).to_have_id(f"task-{ids[0]}")

    # A person scrolls down until no more come (6 a page: two more pages). Scrolled
    # to the page's end, not to the "more" link: the link is replaced by the cards
    # it brings as soon as it is revealed, maybe under Playwright's hand.
    page.wait_for_function(
        """() => {
            window.scrollTo(0, document.documentElement.scrollHeight);
            return document.querySelectorAll("#task-grid > article.card").length === 14;
        }""",
        timeout=30_000,
    )
    expect(cards.last).to_have_id(f"task-{ids[-1]}")
    expect(page.locator(".more-cards")).to_have_count(0)
    assert [card.get_attribute("id") for card in cards.all()] == [f"task-{i}" for i in ids]
    screenshot(f"weight-set-paged-{size}-{lang}")
