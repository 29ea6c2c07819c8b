"""A first `make run` shows every demo image: the archive's seeded tasks finished
days ago, and still every image of the archive page loads (a real server process
and its worker; every <img> fetched, then shown in Chromium at 1440x900 and
390x844, in English and in Chinese, each decoded by the browser)."""

import re
import subprocess
import sys
import time
from html import unescape

import pytest

from tests import prodserver
from tests.browser import SIZES
from tests.ops.test_run_command import ROOT, _demo_env, _serve

ARCHIVING = ("archiving the image", "image unavailable")


LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}  # the browser's language picks the page's
EVERY_IMAGE_LOADED = "() => [...document.images].every((img) => img.complete)"
BROKEN_IMAGES = "() => [...document.images].filter((img) => !img.naturalWidth).map((img) => img.src)"


@pytest.mark.browser
@pytest.mark.timeout(400)  # a worker archives some thirty 2048 px grids, on a shared machine
def test_every_image_of_the_demo_archive_loads_on_a_first_start(tmp_path, browser):
    env = _demo_env(tmp_path)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], env=env, check=True
    )
    server, session, base, _samples = _serve(env, prodserver.free_port())
    try:
        page = ""
        for _ in range(600):  # until the worker archived every image (at most five minutes)
            page = session.get(f"{base}/tasks/", timeout=30).text
            if not any(cue in page for cue in ARCHIVING):
                break
            time.sleep(0.5)
        assert "image unavailable" not in page
        assert "archiving the image" not in page, "the worker did not archive every image"
        cards = page.count('class="card ')
        sources = [unescape(src) for src in re.findall(r'<img[^>]* src="([^"]+)"', page)]
        thumbs = [src for src in sources if not src.startswith("data:")]
        # Every card has its picture but the failed ones (the demo's banned prompts) and
        # the unfinished samples (their progress has no archived image).
        no_image = page.count('<span class="no-image">')
        assert cards >= 30 and len(thumbs) == cards - no_image >= 24
        for src in thumbs:
            answer = session.get(base + src, timeout=30)
            assert answer.status_code == 200, src
            assert answer.headers["Content-Type"].startswith("image/"), src
            assert len(answer.content) > 1000, src
        for size in SIZES:
            for lang, locale in LOCALES.items():
                shown = _images_in_chromium(browser, session, base, size, locale)
                # The demo's running samples go on meanwhile: a new image may appear, none vanish.
                assert shown >= len(sources), (size, lang)
    finally:
        prodserver.stop_group(server)


def _images_in_chromium(browser, session, base: str, size: str, locale: str) -> int:
    """The archive page in a fresh Chromium context logged in as the demo user; every
    image on it decoded (none broken); the page in the browser's language. The count."""
    context = browser.new_context(viewport=SIZES[size], locale=locale)
    try:
        context.add_cookies([{"name": c.name, "value": c.value, "url": base} for c in session.cookies])
        page = context.new_page()
        page.goto(f"{base}/tasks/")
        assert page.locator("html").get_attribute("lang").startswith(locale[:2])
        # Off-screen thumbnails load lazily: ask for all of them, as scrolling would.
        page.evaluate(
            "() => document.querySelectorAll('img[loading=lazy]').forEach((img) => (img.loading = 'eager'))"
        )
        page.wait_for_function(EVERY_IMAGE_LOADED, timeout=60_000)
        assert page.evaluate(BROKEN_IMAGES) == []
        return page.locator("img").count()
    finally:
        context.close()
