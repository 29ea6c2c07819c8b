"""Small things a daily user hits, in Chromium at 1440x900 and 390x844, English and
Chinese: the dashboard's own 404 under DEBUG, keyboard shortcuts on a grid (with
their "?" list and a confirmation before a press), the archive's banner slot (no
htmx:oobErrorNoTarget), the share field, a set's time in the viewer's zone, the favicon."""

import re
import time

import pytest
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import Press, TaskSet
from tests.browser import SIZES
from tests.browser.fit import misfits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {"404": "Page not found", "keys": "Keyboard shortcuts", "ask": "Press U2 on task"},
    "zh-hans": {"404": "找不到页面", "keys": "键盘快捷键", "ask": "要在任务"},
}
COUNT_OOB_ERRORS = """
window.__oobErrors = 0;
document.addEventListener("htmx:oobErrorNoTarget", () => { window.__oobErrors += 1; });
"""


def _until(check, what, tries=150):
    for _ in range(tries):
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(what)


@pytest.mark.timeout(240)
@pytest.mark.browser_context_args(timezone_id="Asia/Shanghai")
@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_small_things(size, lang, settings, user, page, browser_login, simulator, live_server, screenshot):
    user.is_staff = True  # may press: the U/V shortcuts
    user.save()
    grids = [simulator.add_task(prompt=f"a paper kite {n}", run=1.0, queued=0.0) for n in range(3)]
    running = simulator.add_task(prompt="a slow glacier", queued=0.0, run=3600.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[*grids, running])
    words = WORDS[lang]
    width = SIZES[size]["width"]
    page.set_viewport_size(SIZES[size])
    page.add_init_script(COUNT_OOB_ERRORS)
    browser_login("/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")

    # The 404 of `make run` (DEBUG): the dashboard's own, translated, fitting a phone.
    settings.DEBUG = True
    for path in ("/taks/", "/s/nosuchslug1/"):  # a typo, a deleted set (an unknown task: tests/web)
        answer = page.goto(f"{live_server.url}{path}")
        assert answer.status == 404
        expect(page.locator("h1")).to_have_text(words["404"])
        assert misfits(page, width) == []
    screenshot(f"small-404-debug-{size}-{lang}")
    settings.DEBUG = False
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server.url + icon).headers["content-type"].startswith("image/svg")

    # The archive polls (a task runs) and its answers' banner has its slot.
    with page.expect_response(lambda r: "/tasks/poll" in r.url, timeout=20_000):
        page.goto(f"{live_server.url}/tasks/")
    page.wait_for_timeout(100)
    assert page.evaluate("window.__oobErrors") == 0

    # "?" lists the shortcuts; Escape closes the list.
    page.keyboard.press("?")
    help_ = page.locator("dialog#shortcuts")
    expect(help_).to_be_visible()
    expect(help_.locator("h2")).to_have_text(words["keys"])
    assert misfits(page, width) == []
    screenshot(f"small-shortcuts-{size}-{lang}")
    page.keyboard.press("Escape")
    expect(help_).to_be_hidden()

    # Move: j chooses the first card, l the next, h back; s stars it.
    cards = page.locator("#task-grid > .card")
    page.keyboard.press("j")
    expect(cards.nth(0)).to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("l")
    expect(cards.nth(1)).to_have_class(re.compile(r"\bis-current\b"))
    expect(cards.nth(0)).not_to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("ArrowLeft")
    expect(cards.nth(0)).to_have_class(re.compile(r"\bis-current\b"))
    # On to the first grid (the running task, in the archive's order anywhere, has no U2).
    shown = [i.removeprefix("task-") for i in cards.evaluate_all("cards => cards.map(c => c.id)")]
    at = next(n for n, task_id in enumerate(shown) if task_id in grids)
    for _ in range(at):
        page.keyboard.press("l")
    target = shown[at]
    expect(page.locator(f"#task-{target}")).to_have_class(re.compile(r"\bis-current\b"))
    page.keyboard.press("s")
    expect(page.locator(f"#task-{target} [data-star]")).to_have_attribute("aria-pressed", "true")

    # u 2 asks first: declined, nothing is pressed; accepted, U2 is pressed once.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator(f"#task-{target}").focus()
    page.keyboard.press("u")
    page.keyboard.press("2")
    _until(lambda: asked, "no confirmation was asked")
    assert words["ask"] in asked[0] and target in asked[0]
    assert not Press.objects.filter(task_id=target).exists()
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("u")
    page.keyboard.press("2")
    _until(
        lambda: Press.objects.filter(task_id=target, custom_id__contains="upsample::2").exists(),
        "U2 not pressed",
    )

    # Enter opens the chosen card's task.
    page.goto(f"{live_server.url}/tasks/")
    page.keyboard.press("j")
    first = cards.nth(0).get_attribute("id").removeprefix("task-")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/tasks/{first}/")

    # A set: its time in the viewer's zone (Shanghai), its share field not cut below the baseline.
    task_set = TaskSet.objects.create(slug="k_b_u_n_d_1", ids=grids, ids_hash="x", created_by=user)
    page.goto(f"{live_server.url}/s/{task_set.slug}/")
    stamp = page.locator(".set-head time[data-local]")
    expect(stamp).to_contain_text(re.compile(r"GMT\+8|CST"))
    expect(stamp).to_have_attribute("title", re.compile(r" UTC$"))
    share = page.locator("#share-link")
    room = share.evaluate(
        """el => { const s = getComputedStyle(el);
            const inner = el.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
            return inner / parseFloat(s.fontSize); }"""
    )
    assert room >= 1.4, room  # a line and the descenders of "_"
    screenshot(f"small-set-{size}-{lang}")
