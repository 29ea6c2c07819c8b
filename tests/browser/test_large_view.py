"""Issue 12, point 3, in a real Chromium at 1440x900 and 390x844, in English and
Chinese: the detail page shows the large rendition (not the 512 px thumbnail
stretched), a lightbox steps through the grid, its quadrants and its family by
keyboard and by swipe, and the quadrants' U/V buttons stay clickable."""

import time

import pytest
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import Task, TaskImage
from tests.a11y import axe_violations, describe
from tests.browser import SIZES
from tests.browser.test_csp import COLLECT_VIOLATIONS, enforced_csp  # noqa: F401
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CAPTION_3 = {"en": "Image 3 of the grid", "zh-hans": "网格中的第 3 张图"}
OPEN_TASK = {"en": "Open this task", "zh-hans": "打开这个任务"}


def _archived(grid, child, timeout=60.0):
    """Archived with every rendition: the large views, and the grid's quadrants (built
    after the thumbnails, so a busy worker may take a while)."""
    deadline = time.monotonic() + timeout
    rows = TaskImage.objects.filter(index=0, state="ok").exclude(large="")
    while not (rows.filter(task_id=grid, quadrants=True).exists() and rows.filter(task_id=child).exists()):
        assert time.monotonic() < deadline, "images not archived"
        time.sleep(0.2)


def _viewport_shot(page, name):
    """The lightbox covers the viewport: a full-page shot would show the page below it."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png")


def _swipe(page, box, dx):
    """A one-finger horizontal swipe, as a touch screen sends it (Chromium turns
    these touch events into pointer events of type "touch")."""
    cdp = page.context.new_cdp_session(page)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 6):
        point = {"x": x + dx * step / 5, "y": y}
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


@pytest.mark.browser_context_args(has_touch=True)
@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_large_view_and_its_lightbox(
    size,
    lang,
    enforced_csp,  # noqa: F811
    user,
    page,
    browser_login,
    simulator,
    live_server,
    screenshot,
):
    user.is_staff = True  # may press: the quadrants carry live U/V buttons
    user.save()
    grid = simulator.add_task(prompt="a lighthouse at dusk, long exposure", run=1.0)
    child = simulator.add_task(prompt="a lighthouse at dusk, upscaled", action="UPSCALE", run=1.0)
    simulator.clock.advance(120)
    page.set_viewport_size(SIZES[size])
    page.add_init_script(COLLECT_VIOLATIONS)
    browser_login("/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")
    services.task_lookup(ids=[grid, child])  # the worker archives both
    Task.objects.filter(pk=child).update(parent_id=grid)
    _archived(grid, child)

    page.goto(f"{live_server.url}/tasks/{grid}/")
    large = page.locator(".detail-figure img.large-img")
    expect(large).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=large.element_handle())
    # The file's own pixels (with srcset, naturalWidth is scaled to the layout).
    shown = large.evaluate(
        """img => new Promise(done => { const file = new Image();
            file.onload = () => done(
                {src: img.currentSrc, natural: file.naturalWidth, width: img.clientWidth});
            file.src = img.currentSrc; })"""
    )
    dpr = page.evaluate("window.devicePixelRatio")
    # Never stretched: the file has at least as many pixels as the screen shows.
    assert shown["natural"] >= shown["width"] * dpr, shown
    if size == "desktop":
        assert shown["src"].endswith(f"/tasks/{grid}/large.webp") and shown["natural"] == 2048
        assert shown["width"] > 512
    # The quadrants' U/V buttons stay clickable above the image.
    for label in ("U3", "V3"):
        page.locator(".quadrant").nth(2).locator("button", has_text=label).click(trial=True)
    screenshot(f"large-view-{size}-{lang}")

    # A click on the image (between the quadrants' controls) opens the lightbox.
    figure = page.locator(".detail-figure").bounding_box()
    page.mouse.click(figure["x"] + figure["width"] / 2, figure["y"] + figure["height"] / 2)
    dialog = page.locator("dialog#lightbox")
    expect(dialog).to_be_visible()
    count = dialog.locator(".lightbox-count")
    expect(count).to_have_text("1 / 6")  # the grid, its four quadrants, its child
    img = dialog.locator(".lightbox-img")
    expect(img).to_have_attribute("src", f"/tasks/{grid}/large.webp")
    page.wait_for_function("img => img.complete && img.naturalWidth === 2048", arg=img.element_handle())
    _viewport_shot(page, f"lightbox-{size}-{lang}")
    severe = axe_violations(page)
    assert severe == [], describe(severe)

    page.keyboard.press("ArrowRight")
    expect(count).to_have_text("2 / 6")
    expect(img).to_have_attribute("src", f"/tasks/{grid}/quadrant/1.webp")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # wraps to the last: the child
    expect(count).to_have_text("6 / 6")
    expect(img).to_have_attribute("src", f"/tasks/{child}/large.webp")
    expect(dialog.locator(".lightbox-detail")).to_have_text(OPEN_TASK[lang])
    expect(dialog.locator(".lightbox-detail")).to_have_attribute("href", f"/tasks/{child}/")

    # Swipe left: the next image (wrapping to the first); swipe right: back.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    _swipe(page, img.bounding_box(), -150)
    expect(count).to_have_text("1 / 6")
    _swipe(page, img.bounding_box(), 150)
    expect(count).to_have_text("6 / 6")
    # A short drag is not a swipe.
    _swipe(page, img.bounding_box(), -10)
    expect(count).to_have_text("6 / 6")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # A quadrant's number opens the lightbox at that quadrant.
    page.locator(".quadrant-open", has_text="3").click()
    expect(count).to_have_text("4 / 6")
    expect(dialog.locator(".lightbox-caption")).to_have_text(CAPTION_3[lang])
    page.wait_for_function("img => img.complete && img.naturalWidth === 1024", arg=img.element_handle())
    _viewport_shot(page, f"lightbox-quadrant-{size}-{lang}")
    dialog.locator(".lightbox-close").click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("window.__cspViolations") == []  # enforced: no inline script or style


def test_a_quadrant_opened_before_it_is_built_appears_once_it_is(
    user, page, browser_login, simulator, live_server
):
    grid = simulator.add_task(prompt="a lighthouse at dusk, long exposure", run=1.0)
    simulator.clock.advance(120)
    browser_login("/")
    services.task_lookup(ids=[grid])
    deadline = time.monotonic() + 60
    while not TaskImage.objects.filter(task_id=grid, index=0, quadrants=True).exists():
        assert time.monotonic() < deadline, "quadrants not built"
        time.sleep(0.2)
    TaskImage.objects.filter(task_id=grid, index=0).update(
        quadrants=False
    )  # as moments after the grid finished
    page.goto(f"{live_server.url}/tasks/{grid}/")

    page.locator(".quadrant-open", has_text="3").click()
    img = page.locator("dialog#lightbox .lightbox-img")
    page.wait_for_function("img => img.complete && img.naturalWidth === 0", arg=img.element_handle())  # 503
    TaskImage.objects.filter(task_id=grid, index=0).update(quadrants=True)  # the worker built them

    page.wait_for_function("img => img.complete && img.naturalWidth === 1024", arg=img.element_handle())
    assert "/quadrant/3.webp?retry=" in img.get_attribute("src")
