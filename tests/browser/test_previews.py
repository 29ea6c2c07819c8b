"""A running card shows the relay's progress preview, fetched by a real worker and
replaced as the task moves: in Chromium at 1440x900 and 390x844, English and Chinese."""

import pytest
from playwright.sync_api import expect

from tests.browser import SIZES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABEL = {"en": "preview", "zh-hans": "预览"}


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_running_card_shows_its_preview_and_follows_it(
    size, lang, page, browser_login, simulator, live_server, screenshot
):
    running = simulator.add_task(prompt="a lighthouse in a storm", queued=0.0, run=1000.0)
    simulator.clock.advance(300)  # about 30%: the relay shows its 25% preview
    page.set_viewport_size(SIZES[size])
    browser_login("/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")

    page.goto(f"{live_server.url}/tasks/?ids={running}")
    img = page.locator(f"#task-{running} .thumb.progress-preview img")
    expect(img).to_be_visible(timeout=30_000)  # the worker fetched it; the poller swapped the card
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    expect(page.locator(f"#task-{running} .preview-label")).to_contain_text(LABEL[lang])
    first = img.get_attribute("src")
    screenshot(f"preview-card-{size}-{lang}")

    simulator.clock.advance(300)  # about 60%: the 50% preview replaces it
    expect(page.locator(f"#task-{running} .thumb.progress-preview img")).not_to_have_attribute(
        "src", first, timeout=30_000
    )
    page.wait_for_function(
        "sel => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }",
        arg=f"#task-{running} .thumb.progress-preview img",
    )
