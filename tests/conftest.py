"""Shared fixtures: a real simulator on loopback and logged-in clients."""

import os
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import translation

from tasks_app.simulator import Simulator

API_KEY = "sk-test-SECRET-9f3c1b7e"


@pytest.fixture
def simulator(settings):
    """A fresh relay simulator on a free loopback port, with the dashboard pointed at it."""
    sim = Simulator(api_key=API_KEY, frozen_clock=True).start()
    sim.timeout_sleep = 2.0
    settings.MJ_API_BASE = sim.base_url
    settings.MJ_API_KEY = API_KEY
    settings.MJ_DEMO_MODE = False
    settings.MJ_READ_TIMEOUT = 0.5
    settings.MJ_RETRY_BACKOFF = 0.01
    settings.MJ_IMAGE_ALLOW_LOOPBACK = True  # the simulator serves its images on loopback
    # The simulator's clock is frozen while real time barely moves: every lookup
    # asks again unless a test turns the shared freshness window on itself.
    settings.MJ_FRESHNESS_SECONDS = 0
    yield sim
    sim.stop()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Archived images go to a per-test folder, never the real MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _empty_cache_and_english():
    cache.clear()
    translation.activate("en")
    yield
    cache.clear()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


# ---- browser tests: Playwright drives Debian's Chromium, never a downloaded one

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-artifacts/ for a person to look at."""

    def take(name):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    return take


@pytest.fixture
def browser_login(page, live_server, user):
    """A Chromium page logged in as alice through the real login form."""

    def login(next_path="/"):
        page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "alice-pass-123")
        page.click("section.login button[type=submit]")
        return page

    return login


# ---- which database and cache this run uses (the suite runs twice: SQLite, then PostgreSQL + Redis)


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = (
        db["NAME"] if db["ENGINE"].endswith("sqlite3") else f"{db.get('HOST')}:{db.get('PORT')}/{db['NAME']}"
    )
    cache = settings.CACHES["default"]
    location = cache.get("LOCATION", "")
    if location and "@" in str(location):
        location = "<credentials hidden>@" + str(location).rsplit("@", 1)[1]
    return [
        f"mjdash database: {db['ENGINE'].rsplit('.', 1)[-1]} ({where})",
        f"mjdash cache: {cache['BACKEND'].rsplit('.', 1)[-1]}{f' ({location})' if location else ''}",
    ]
