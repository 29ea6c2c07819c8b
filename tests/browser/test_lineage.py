"""Lineage from the relay's data in a real Chromium, at 1440x900 and 390x844, in
English and Chinese: a family whose buttons were pressed outside the dashboard
(made directly in the simulator) shows as a tree one can walk up and down."""

import pytest
from playwright.sync_api import expect

from tasks_app import services
from tests.a11y import axe_violations, describe
from tests.browser import SIZES
from tests.browser.fit import misfits
from tests.lineage.test_family import make_family

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAMILY = {"en": "Family", "zh-hans": "家族"}


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_family_pressed_elsewhere_is_a_tree_to_walk(
    size, lang, page, browser_login, simulator, live_server, screenshot
):
    f = make_family(simulator)
    services.task_lookup(ids=[f["pan"], f["up3"], f["zoom"]])  # children before their parents
    services.task_lookup(ids=[f["grid"], f["up"], f["vary"]])
    page.set_viewport_size(SIZES[size])
    browser_login("/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")

    page.goto(f"{live_server.url}/tasks/{f['up3']}/")
    tree = page.locator("nav.family-tree")
    expect(tree.locator("h2")).to_have_text(FAMILY[lang])
    expect(tree.locator(".tree-task")).to_have_count(6)
    expect(tree.locator("[aria-current=page] .tree-id")).to_have_text(f["up3"])
    # The upscale's origin on its own card line: the parent's button, linked.
    expect(page.locator(".detail-body .origin a")).to_have_attribute("href", f"/tasks/{f['vary']}/")
    assert misfits(page, SIZES[size]["width"]) == []
    severe = axe_violations(page)
    assert severe == [], describe(severe)
    screenshot(f"lineage-tree-{size}-{lang}")

    # Up to the grid: its page marks it, and the whole family is still there.
    tree.locator("a.tree-task", has_text=f["grid"]).click()
    expect(page).to_have_url(f"{live_server.url}/tasks/{f['grid']}/")
    expect(tree.locator("[aria-current=page] .tree-id")).to_have_text(f["grid"])
    expect(tree.locator(".tree-task")).to_have_count(6)
    # ...and its children section lists the upscale pressed elsewhere.
    expect(page.locator(f"section.children #task-{f['up']}")).to_be_visible()
    # Down to the pan, three generations below.
    tree.locator("a.tree-task", has_text=f["pan"]).click()
    expect(page).to_have_url(f"{live_server.url}/tasks/{f['pan']}/")
    expect(tree.locator("[aria-current=page] .tree-button")).to_have_text("⬅️")
