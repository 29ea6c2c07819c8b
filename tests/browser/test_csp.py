"""The Content-Security-Policy holds in a real Chromium: no page needs inline
script or style, and htmx (served from static) still works under it."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script; CSP does not apply to it. Report-only violations fire too.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.disposition} ${e.effectiveDirective} ${e.blockedURI} ${where}`);
});
"""


@pytest.fixture
def enforced_csp(settings):
    """Production's policy, enforced (development only reports)."""
    settings.SECURE_CSP = settings.MJ_CSP_POLICY
    settings.SECURE_CSP_REPORT_ONLY = {}


def test_main_pages_raise_no_csp_violation_and_htmx_still_works(
    enforced_csp, page, browser_login, simulator, live_server, screenshot
):
    console_errors = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.add_init_script(COLLECT_VIOLATIONS)
    done = [
        simulator.add_task(prompt=f"a quiet harbour {i}", queued=0.0, run=1.0, ago=300.0) for i in range(2)
    ]
    running = simulator.add_task(prompt="a slow glacier", queued=0.0, run=3600.0)

    def violations():
        return page.evaluate("window.__cspViolations")

    page.goto(f"{live_server.url}/accounts/login/")
    assert violations() == []
    response = page.request.get(f"{live_server.url}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    browser_login("/")
    page.wait_for_url(f"{live_server.url}/")
    page.wait_for_load_state("load")  # htmx is a deferred script
    assert violations() == []
    assert page.evaluate("typeof window.htmx") == "object"

    # The paste form goes through htmx: the grid is swapped in, the address pushed.
    page.fill("textarea[name=ids]", " ".join([*done, running]))
    page.click("text=Show tasks")
    expect(page.locator("article.card")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"/s/[A-Za-z0-9_-]+/$"))
    page.wait_for_timeout(300)
    assert violations() == []

    page.goto(f"{live_server.url}/tasks/?ids={','.join([*done, running])}")
    expect(page.locator("article.card")).to_have_count(3)
    page.wait_for_timeout(300)
    assert violations() == []

    page.goto(f"{live_server.url}/tasks/{done[0]}/")
    page.wait_for_load_state("networkidle")
    assert violations() == []
    screenshot("csp-detail")

    assert not [text for text in console_errors if "Content Security Policy" in text], console_errors

    # The detector itself works: an inline style is refused and reported.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_timeout(200)
    assert any("style-src" in v for v in violations()), violations()
