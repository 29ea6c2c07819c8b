"""What a person clicks, in a real Chromium: press a button, draw a Vary (Region) mask."""

import base64
import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tasks_app.models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pressing_u2_puts_the_child_card_at_the_top_of_the_grid(
    alice_may_press, browser_login, simulator, screenshot
):
    ids = [simulator.add_task(prompt=f"a red fox {i}", run=1.0, queued=0.0) for i in range(2)]
    simulator.clock.advance(120)
    page = browser_login(f"/tasks/?ids={ids[0]},{ids[1]}")
    expect(page.locator("#task-grid > article.card")).to_have_count(2)

    page.locator(f"#task-{ids[1]} .row-u button", has_text="U2").click()

    first = page.locator("#task-grid > article.card").first
    # A worker process sends the press, maybe after the image job it is running.
    expect(first).to_contain_text("U2 of", timeout=20_000)
    expect(page.locator("#task-grid > article.card")).to_have_count(3)
    child = Task.objects.get(parent_id=ids[1])
    expect(first).to_have_id(f"task-{child.id}")
    expect(page.locator(f"#press-result-{ids[1]}")).to_contain_text(child.id)
    assert first.get_attribute("data-poll-id") == child.id  # the page's poller follows it
    assert simulator.calls["action"] == 1
    screenshot("buttons-child-card")


def test_drawing_a_rectangle_on_vary_region_sends_that_mask(
    alice_may_press, browser_login, simulator, screenshot
):
    grid = simulator.add_task(prompt="a lighthouse", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    page = browser_login(f"/tasks/{grid}/")
    expect(page.locator(".row-u button[name=custom_id]").first).to_have_attribute("value", "upsample::1")
    up_cid = next(b["customId"] for b in Task.objects.get(pk=grid).buttons if b["label"] == "U1")
    upscale = simulator.add_task(
        action="UPSCALE", prompt="a lighthouse", parent_id=grid, customId=up_cid, run=1.0
    )
    simulator.clock.advance(120)
    page.goto(page.url.replace(grid, upscale))
    # The worker archives the upscale; the page swaps its image in by itself.
    expect(page.locator(f"#thumb-{upscale} img.thumb-img")).to_be_visible(timeout=20_000)

    page.locator("button", has_text="Vary (Region)").click()
    editor = page.locator("[data-mask-editor] canvas")
    expect(editor).to_be_visible()
    box = editor.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.up()
    expect(page.locator("input[name=rects]")).to_have_value("256,256,256,256")
    screenshot("buttons-vary-region-mask")
    page.locator(".modal-form button[type=submit].primary").click()

    expect(page.locator(".badge").first).not_to_have_text("Needs details")
    data = simulator.masks()[0].split(",", 1)[1]
    mask = Image.open(io.BytesIO(base64.b64decode(data))).convert("L")
    assert mask.size == (1024, 1024)
    assert mask.getpixel((384, 384)) == 255 and mask.getpixel((100, 100)) == 0
