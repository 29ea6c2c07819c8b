"""Accessibility in a real Chromium: axe-core on every page at desktop and phone sizes."""

import pytest

from tests.a11y import axe_violations, describe
from tests.browser import SIZES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def one_h1(page):
    """Exactly one h1 a page, as a violation axe would report (its page-has-heading-one is moderate)."""
    n = page.locator("h1").count()
    return (
        [] if n == 1 else [{"impact": "serious", "id": "one-h1", "help": f"{n} h1", "nodes": [], "count": 1}]
    )


def test_axe_finds_no_serious_or_critical_violation_on_any_page(
    alice_may_press, settings, page, browser_login, simulator, live_server, screenshot
):
    settings.DEBUG = False  # the dashboard's own 404 page, not Django's technical one
    done = [
        simulator.add_task(prompt=f"a quiet harbour {i}", queued=0.0, run=1.0, ago=300.0) for i in range(2)
    ]
    running = simulator.add_task(prompt="a slow glacier", queued=0.0, run=3600.0)
    failed = simulator.add_task(prompt="a banned thing", status="FAILURE")
    cancelled = simulator.add_task(prompt="a cancelled thing", status="CANCEL")
    modal = simulator.add_task(prompt="a zoomed harbour", action="CUSTOM_ZOOM", status="MODAL")
    simulator.clock.advance(120)
    ids = ",".join([*done, running, failed, cancelled, modal])
    pages = {
        "home": "/",
        "results": f"/tasks/?ids={ids}",
        "detail-grid": f"/tasks/{done[0]}/",
        "detail-modal": f"/tasks/{modal}/",
        "not-found": "/tasks/99999999999999/",
        "create": "/create/",
        "create-blend": "/create/?kind=blend",
    }
    found = {}
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.goto(f"{live_server.url}/accounts/login/")
        found[f"login-{size}"] = axe_violations(page) + one_h1(page)
    browser_login("/")
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            page.goto(live_server.url + path)
            found[f"{name}-{size}"] = axe_violations(page) + one_h1(page)
            screenshot(f"a11y-{name}-{size}")
    report = {name: v for name, v in found.items() if v}
    assert not report, "\n".join(f"== {name}\n{describe(v)}" for name, v in report.items())
