"""Issue 12, points 10 and 2, in a real Chromium at 1440x900 and 390x844, in
English and Chinese: the first visit says what to paste and where IDs come
from; a skeleton stands in for a set while it loads; a filter or a paste that
matches nothing says so; a Vary (Region) form sent without a mask comes back
with its error in place, and nothing reaches the relay."""

import pytest
from playwright.sync_api import expect

from tests.a11y import axe_violations, describe
from tests.browser import SIZES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {
        "welcome": "Nothing here yet: paste some task IDs above",
        "where": "/mj/submit/imagine",
        "no_match": "No task matches these filters.",
        "unknown": "None of these IDs is known to the relay",
        "missing_mask": "Draw or type at least one rectangle.",
        "show": "Show tasks",
    },
    "zh-hans": {
        "welcome": "这里还是空的：在上面粘贴任务 ID",
        "where": "/mj/submit/imagine",
        "no_match": "没有符合这些筛选条件的任务。",
        "unknown": "中转站不认识这些 ID",
        "missing_mask": "请至少画出或输入一个矩形。",
        "show": "显示任务",
    },
}


WATCH_SKELETON = """
(() => {
  const skeleton = document.getElementById("paste-skeleton");
  const note = {};
  new MutationObserver(() => {
    if (!note.shown && getComputedStyle(skeleton).display === "grid") note.shown = Date.now();
  }).observe(skeleton, { attributes: true });
  window.addEventListener("pagehide", () => {
    note.left = Date.now();
    note.at_leave = getComputedStyle(skeleton).display;
    sessionStorage.setItem("skeleton", JSON.stringify(note));
  });
})()
"""


def _in_view(page, locator):
    box = locator.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_empty_states_and_the_loading_cue(
    size, lang, settings, page, browser_login, simulator, live_server, screenshot
):
    text = TEXT[lang]
    page.set_viewport_size(SIZES[size])
    browser_login("/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")

    welcome = page.locator("section.welcome")
    expect(welcome.locator("h2")).to_have_text(text["welcome"])
    expect(welcome).to_contain_text(text["where"])
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    screenshot(f"empty-home-{size}-{lang}")
    assert (severe := axe_violations(page)) == [], describe(severe)

    # A slow relay: the skeleton shows where the cards will come, then goes.
    ids = [simulator.add_task(prompt=f"a harbour at dawn {n}", run=1.0) for n in range(2)]
    simulator.clock.advance(120)
    settings.MJ_READ_TIMEOUT = settings.MJ_RELAY_DEADLINE = 10.0
    simulator.latency = 1.5
    page.fill("textarea[name=ids]", " ".join(ids))
    # Playwright waits out a navigation before it looks again, so the page itself
    # notes when the skeleton showed and whether it still showed when it was left.
    page.evaluate(WATCH_SKELETON)
    page.click(f"text={text['show']}")
    expect(page.locator("#task-grid > article.card")).to_have_count(2, timeout=15_000)
    watched = page.evaluate("JSON.parse(sessionStorage.getItem('skeleton') || '{}')")
    assert watched.get("shown") and watched.get("at_leave") == "grid", watched
    assert watched["left"] - watched["shown"] >= 1000, watched  # through the slow relay's 1.5 s
    page.goto(f"{live_server.url}/")
    page.evaluate("document.getElementById('paste-skeleton').classList.add('loading')")
    screenshot(f"loading-skeleton-{size}-{lang}")
    assert (severe := axe_violations(page)) == [], describe(severe)
    simulator.latency = 0.0

    # IDs the relay does not know: said in words, not an empty grid, also when
    # the answer comes after the page (its "looking up…" cards, then the poller).
    settings.MJ_LOOKUP_WAIT_SECONDS = 0
    page.goto(f"{live_server.url}/")
    page.fill("textarea[name=ids]", "1799999999999999001 1799999999999999002")
    page.click(f"text={text['show']}")
    expect(page.locator("#task-grid article.card-lookup")).to_have_count(2)
    expect(page.locator("#results .empty-state")).to_be_visible(timeout=30_000)
    expect(page.locator("#results .empty-state")).to_contain_text(text["unknown"])
    screenshot(f"empty-unknown-ids-{size}-{lang}")

    page.goto(f"{live_server.url}/tasks/?q=no-such-prompt-anywhere")
    expect(page.locator(".empty-state")).to_have_text(text["no_match"])
    screenshot(f"empty-filter-{size}-{lang}")


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_vary_region_sent_without_a_mask_shows_the_form_again_with_its_error(
    size, lang, user, page, browser_login, simulator, live_server, screenshot
):
    user.is_staff = True
    user.save()
    modal = simulator.add_task(prompt="a lighthouse, stormy sky", action="INPAINT", status="MODAL")
    page.set_viewport_size(SIZES[size])
    browser_login(f"/tasks/{modal}/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")
    expect(page.locator("#modal-form")).to_be_visible()
    page.fill("#modal-form textarea[name=prompt]", "a lighthouse, stormy sky, at night")
    simulator.reset_counters()

    page.locator("#modal-form form.modal button[type=submit]").click()

    error = page.locator("#modal-form .form-error")
    expect(error).to_have_text(TEXT[lang]["missing_mask"])
    assert page.url.endswith(f"/tasks/{modal}/modal")  # the answer to the POST: the form, not a dead end
    expect(page.locator("#modal-form textarea[name=prompt]")).to_have_value(
        "a lighthouse, stormy sky, at night"
    )
    expect(page.locator("#modal-form input[name=rects]")).to_be_focused()
    assert _in_view(page, error)  # the focused field brings the error into view on a phone too
    assert simulator.calls["modal"] == 0
    screenshot(f"modal-missing-mask-{size}-{lang}")
    assert (severe := axe_violations(page)) == [], describe(severe)
