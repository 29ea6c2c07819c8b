"""Shared fixtures: a real simulator on loopback and logged-in clients."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from tasks_app.simulator import Simulator

API_KEY = "sk-test-SECRET-9f3c1b7e"
MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


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
def _jobs_run_at_once(settings):
    """Background jobs run where they are enqueued (Django's immediate backend),
    unless a test starts real workers (tests/test_jobs.py)."""
    settings.MJ_TASK_BACKEND = "immediate"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def jobs_held(settings):
    """Jobs are enqueued and kept, never run (Django's dummy backend): what a
    request does by itself, with no worker anywhere."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    from django.tasks import default_task_backend

    yield default_task_backend
    default_task_backend.clear()


class Workers:
    """Real background workers: `manage.py db_worker` processes on the test
    database, pointed at the test's simulator and media folder."""

    def __init__(self, settings):
        self.settings = settings
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> "Workers":
        env = {**os.environ, **self._env()}
        for _ in range(count):
            command = [sys.executable, str(MANAGE), "db_worker", "--interval", "0.1", "--no-startup-delay"]
            self.processes.append(subprocess.Popen(command, env=env))  # noqa: S603
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()

    def _env(self) -> dict[str, str]:
        s = self.settings
        db = connection.settings_dict
        if db["ENGINE"].endswith("sqlite3"):
            database_url = f"sqlite:///{db['NAME']}"
        else:
            database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        env = {
            "DATABASE_URL": database_url,
            "MJ_TASK_BACKEND": "database",
            "MJ_API_BASE": s.MJ_API_BASE,
            "MJ_API_KEY": s.MJ_API_KEY,
            "MEDIA_ROOT": str(s.MEDIA_ROOT),
            "MJ_IMAGE_ALLOW_LOOPBACK": "1" if s.MJ_IMAGE_ALLOW_LOOPBACK else "0",
        }
        for name in (
            "MJ_READ_TIMEOUT",
            "MJ_RETRY_BACKOFF",
            "MJ_FRESHNESS_SECONDS",
            "MJ_FOLLOW_SECONDS",
            "MJ_CLAIM_SECONDS",
            "MJ_IMAGE_TIMEOUT",
            "MJ_IMAGE_RETRIES",
            "MJ_IMAGE_RETRY_BACKOFF",
        ):
            env[name] = str(getattr(s, name))
        location = s.CACHES["default"].get("LOCATION")
        if "redis" in s.CACHES["default"]["BACKEND"].lower() and location:
            env["REDIS_URL"] = location
        return env


@pytest.fixture
def workers(settings, simulator, transactional_db):
    """Start real workers with `workers.start(n)`; they stop when the test ends.

    The test's own process enqueues through the database backend, as the web
    processes do, so nothing runs in a request.
    """
    settings.MJ_TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MJ_FOLLOW_SECONDS = 0.5
    pool = Workers(settings)
    yield pool
    pool.stop()


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
def browser_login(page, live_server, user, workers):
    """A Chromium page logged in as alice through the real login form, with
    one real background worker, as `make run` has."""
    workers.start(1)

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
