"""What a person sees of images in a real Chromium: thumbnails, and why one is missing."""

import pytest
from playwright.sync_api import expect

from tasks_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRIVATE_ID = "1743326750223591"
# A worker process archives the images, and the page's poller swaps them in: on a
# loaded machine that takes more than Playwright's default 5 s.
ARCHIVED = 30_000


def test_thumbnails_load_on_the_grid_and_a_refused_one_says_why(browser_login, simulator, screenshot):
    ids = [simulator.add_task(prompt=f"a paper boat {i}", run=1.0) for i in range(2)]
    simulator.clock.advance(120)
    simulator.put_raw(
        {
            "id": PRIVATE_ID,
            "action": "UPSCALE",
            "status": "SUCCESS",
            "prompt": "metadata, please",
            "imageUrl": "http://169.254.169.254/latest/meta-data/",
        }
    )
    page = browser_login(f"/tasks/?ids={ids[0]},{PRIVATE_ID},{ids[1]}")

    for task_id in ids:
        thumb = page.locator(f"#task-{task_id} img.thumb-img")
        expect(thumb).to_be_visible(timeout=ARCHIVED)
        page.wait_for_function(
            "el => el.complete && el.naturalWidth > 0", arg=thumb.element_handle(), timeout=15000
        )
    unavailable = page.locator(f"#task-{PRIVATE_ID} .image-unavailable")
    expect(unavailable).to_contain_text("image unavailable: address not allowed", timeout=ARCHIVED)
    expect(unavailable.locator("button")).to_have_text("Retry download")
    screenshot("images-grid")


def _wait_built(task_id: str, timeout: float = 60.0) -> None:
    import time

    from django.core.files.storage import default_storage

    from tasks_app.images.archive import large_name, quadrant_name
    from tasks_app.models import TaskImage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        image = TaskImage.objects.filter(task_id=task_id, index=0, state="ok").first()
        names = [large_name(image), *(quadrant_name(image, n) for n in range(1, 5))] if image else []
        if names and all(default_storage.exists(name) for name in names):
            return
        time.sleep(0.1)
    raise AssertionError(f"task {task_id}: its renditions were not built in {timeout} s")


def test_the_detail_page_numbers_the_quadrants(browser_login, simulator, screenshot):
    task_id = simulator.add_task(prompt="four lanterns on a pier", run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    _wait_built(task_id)  # the large rendition and quadrants too: a page opened between them races
    page = browser_login(f"/tasks/{task_id}/")

    expect(page.locator(".quadrant-open")).to_have_count(4, timeout=ARCHIVED)
    page.wait_for_function("document.querySelector('.detail-figure img.thumb-img').naturalWidth > 0")
    expect(page.locator(".quadrant").nth(2)).to_contain_text("U3")
    screenshot("images-detail")
    page.click(".quadrant-open >> text=2")  # opens large in the lightbox (the link itself without JS)
    lightbox = page.locator("dialog#lightbox .lightbox-img")
    expect(lightbox).to_have_attribute("src", f"/tasks/{task_id}/quadrant/2.webp")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=lightbox.element_handle())
    assert lightbox.evaluate("img => img.naturalWidth") == 1024
