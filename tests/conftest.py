"""Shared fixtures: a real simulator on loopback and logged-in clients."""

import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import connection
from django.test import Client, override_settings
from django.utils import translation

from tasks_app import queues
from tasks_app.simulator import Simulator

API_KEY = "sk-test-SECRET-9f3c1b7e"
MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


# Django's PBKDF2 (1,500,000 iterations) costs a third of a second or more per hash,
# paid by every fixture user and every form login. Tests hash with MD5 instead; the
# production settings keep Django's hashers (and so do the servers test_multiprocess
# starts in their own processes).
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher():
    from django.conf import settings

    if not settings.configured:  # a run without Django (-p no:django)
        yield
        return
    with override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS):
        yield


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
    unless a test starts real workers (tests/jobs/test_jobs.py)."""
    settings.MJ_TASK_BACKEND = "immediate"
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": list(queues.ALL)}
    }


@pytest.fixture
def jobs_held(settings):
    """Jobs are enqueued and kept, never run (Django's dummy backend): what a
    request does by itself, with no worker anywhere."""
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend", "QUEUES": list(queues.ALL)}
    }
    from django.tasks import default_task_backend

    yield default_task_backend
    default_task_backend.clear()


class Workers:
    """Real background workers: `manage.py worker` processes on the test
    database, pointed at the test's simulator and media folder."""

    def __init__(self, settings):
        self.settings = settings
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1, *, backend: str = "database") -> "Workers":
        """Start `count` worker processes (`manage.py worker`), on the database queue or RQ."""
        if backend == "rq":
            self.settings.MJ_TASK_BACKEND = "rq"
            self.settings.TASKS = {
                "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": list(queues.ALL)}
            }
        command = ["worker", "--interval", "0.1"]  # every queue, in one process
        env = {**os.environ, **self._env()}
        for _ in range(count):
            process = subprocess.Popen([sys.executable, str(MANAGE), *command], env=env)  # noqa: S603
            self.processes.append(process)
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
            "MJ_TASK_BACKEND": s.MJ_TASK_BACKEND,
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
            "MJ_RELAY_DEADLINE",
        ):
            env[name] = str(getattr(s, name))
        if getattr(s, "REDIS_URL", ""):
            env["REDIS_URL"] = s.REDIS_URL  # this xdist worker's own database
        if s.MJ_MEDIA_BUCKET:  # the test's bucket (the `bucket` fixture)
            for name in (
                "MJ_MEDIA_BUCKET",
                "MJ_MEDIA_ENDPOINT_URL",
                "MJ_MEDIA_REGION",
                "MJ_MEDIA_ACCESS_KEY_ID",
                "MJ_MEDIA_SECRET_ACCESS_KEY",
            ):
                env[name] = str(getattr(s, name))
        return env


@pytest.fixture
def workers(settings, simulator, transactional_db):
    """Start real workers with `workers.start(n)`; they stop when the test ends.

    The test's own process enqueues through the database backend, as the web
    processes do, so nothing runs in a request.
    """
    settings.MJ_TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)}}
    settings.MJ_FOLLOW_SECONDS = 0.5
    pool = Workers(settings)
    yield pool
    pool.stop()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Archived images go to a per-test folder, never the real MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 server (moto's server mode) on a free loopback port for this run.
    Without moto installed this fails (ImportError), it never skips."""
    from tests.s3server import S3Server

    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def bucket(settings, s3_server):
    """Archived images go to a fresh bucket on the test S3 server, configured as
    MJ_MEDIA_BUCKET and its companions configure it; yields the bucket, which
    counts the requests made to it."""
    from mjdash.media import bucket_storage
    from tests.s3server import ACCESS_KEY, REGION, SECRET_KEY

    fresh = s3_server.bucket()
    settings.MJ_MEDIA_BUCKET = fresh.name
    settings.MJ_MEDIA_ENDPOINT_URL = s3_server.endpoint
    settings.MJ_MEDIA_REGION = REGION
    settings.MJ_MEDIA_ACCESS_KEY_ID = ACCESS_KEY
    settings.MJ_MEDIA_SECRET_ACCESS_KEY = SECRET_KEY
    settings.MJ_MEDIA_SERVE = "redirect"
    settings.MJ_MEDIA_URL_SECONDS = 300
    settings.STORAGES = {
        **settings.STORAGES,
        "default": bucket_storage(
            bucket=fresh.name,
            endpoint_url=s3_server.endpoint,
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            url_seconds=300,
            timeout=5.0,
            largest_upload=settings.MJ_IMAGE_MAX_BYTES,
        ),
    }
    return fresh


@pytest.fixture(autouse=True)
def _empty_cache_and_english():
    from tasks_app.images import middleware

    cache.clear()
    middleware._recent.clear()  # the signed thumbnails this process served lately
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


@pytest.fixture
def alice_may_press(user):
    """alice as staff: she may press buttons and create (paid routes)."""
    user.is_staff = True
    user.save()


@pytest.fixture
def bob(django_user_model):
    """A second person, logged in on a client of his own."""
    client = Client()
    client.force_login(django_user_model.objects.create_user("bob", password="bob-pass-123"))
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

    def login(next_path="/", *, looked_up=True):
        """`looked_up`: return once no card is still being looked up. The worker may
        start after the page came; then its poller fills the cards in a moment later."""
        page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "alice-pass-123")
        page.click("section.login button[type=submit]")
        if looked_up:
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
            page.wait_for_load_state("load")
            # A looking-up card is filled in; a detail page reloads itself (HX-Refresh).
            page.locator(".card-lookup, .looking-up").first.wait_for(state="detached", timeout=30_000)
            page.wait_for_load_state("load")
        return page

    return login


# ---- a browser test ends only when the live server has finished its work
#
# A page may still be loading (lazy thumbnails, a poll) when its test's last
# assertion passes. Closing it does not stop the live server's thread, which
# would go on downloading from a simulator that is being stopped and write to
# a database that the next test has already flushed. So after the test and
# before any fixture is torn down (the simulator, the page, the database), the
# page is sent to about:blank (nothing new is asked; what is in flight is
# cancelled on the browser's side) and we wait until the live server has
# answered every request it took, however it ends.


class _LiveServerRequests:
    """The requests the live server (threads of this process) is handling now, by thread.

    Django's request_started/request_finished signals with a WSGIHandler sender: the live
    server's handler is one, the test client's is not.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._threads: set[int] = set()

    def started(self, sender, **kwargs):
        if isinstance(sender, type) and issubclass(sender, WSGIHandler):
            with self._lock:
                self._threads.add(threading.get_ident())

    def finished(self, sender, **kwargs):
        if isinstance(sender, type) and issubclass(sender, WSGIHandler):
            with self._lock:
                self._threads.discard(threading.get_ident())

    def wait_idle(self, timeout: float, quiet: float = 0.2) -> int:
        """Wait until none has been in progress for `quiet` seconds; return how many still are."""
        deadline = time.monotonic() + timeout
        idle_since = None
        while True:
            with self._lock:
                busy = len(self._threads)
            now = time.monotonic()
            if busy:
                idle_since = None
            elif idle_since is None:
                idle_since = now
            elif now - idle_since >= quiet:
                return 0
            if now >= deadline:
                return busy
            time.sleep(0.02)


LIVE_SERVER_REQUESTS = _LiveServerRequests()
request_started.connect(LIVE_SERVER_REQUESTS.started, weak=False)
request_finished.connect(LIVE_SERVER_REQUESTS.finished, weak=False)
LIVE_SERVER_SETTLE_SECONDS = 20.0


def _settle_live_server(item) -> None:
    if "live_server" not in item.fixturenames:
        return
    funcargs = getattr(item, "funcargs", {})
    context = funcargs.get("context")
    pages = list(context.pages) if context is not None else []
    if funcargs.get("page") is not None and funcargs["page"] not in pages:
        pages.append(funcargs["page"])
    errors = []
    for open_page in pages:
        if not open_page.is_closed():
            try:
                open_page.goto("about:blank", timeout=10_000)
            except Exception as error:  # a crashed page: still wait for the server below
                errors.append(f"{open_page}: {error}")
    busy = LIVE_SERVER_REQUESTS.wait_idle(LIVE_SERVER_SETTLE_SECONDS)
    if busy:
        errors.append(f"the live server still handled {busy} request(s) {LIVE_SERVER_SETTLE_SECONDS:g}s on")
    if errors:
        raise RuntimeError("browser test did not end cleanly: " + "; ".join(errors))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        _settle_live_server(item)
        settle_error = None
    except Exception as error:
        settle_error = error
    if nextitem is None:
        # The session's last teardown drops the test database, which PostgreSQL refuses
        # while connections are open. Threads of tests (and of views they call) opened
        # some and ended without closing them; what is left of them waits for the cyclic
        # garbage collector, whose collection closes them now.
        gc.collect()
    result = yield  # the fixtures' own teardown, whatever happened above
    if settle_error is not None:
        raise settle_error
    return result


# ---- which database and cache this run uses (the suite runs twice: SQLite, then PostgreSQL + Redis)


def _redis_url_for_worker(url: str, worker: str) -> str:
    """The Redis URL of xdist worker `worker` (gw0, gw1, ...): the next databases after the URL's own.

    The autouse cache clear is a FLUSHDB, so workers sharing one database would wipe
    each other's cache mid-test: gw0 gets database base+1, gw1 base+2, and so on.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(query).get("db") or (parts.path.strip("/") if parts.scheme != "unix" else "")
    db = int(given or 0) + int(worker.removeprefix("gw")) + 1
    query = [(key, value) for key, value in query if key != "db"]
    if parts.scheme == "unix":  # unix:///path/redis.sock?db=N: the path is the socket's
        return f"unix://{parts.netloc}{parts.path}?{urlencode([*query, ('db', db)])}"
    return urlunsplit(parts._replace(path=f"/{db}", query=urlencode(query)))


def pytest_configure(config):
    """Under xdist, each worker gets its own Redis database (before anything uses the cache)."""
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not settings.configured or not getattr(settings, "REDIS_URL", ""):
        return
    url = _redis_url_for_worker(settings.REDIS_URL, worker)
    caches = {**settings.CACHES, "default": {**settings.CACHES["default"], "LOCATION": url}}
    # For the whole run; test_multiprocess hands settings.REDIS_URL to its servers,
    # tests/jobs/test_jobs.py its RQ workers.
    # Every queue the settings name (follow, press, images, default), on this database.
    rq_queues = {name: {**config, "URL": url} for name, config in getattr(settings, "RQ_QUEUES", {}).items()}
    override_settings(REDIS_URL=url, CACHES=caches, RQ_QUEUES=rq_queues).enable()


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
    if location and getattr(config.option, "numprocesses", None):
        location += "; xdist worker gwN uses the database N+1 above this one"
    return [
        f"mjdash database: {db['ENGINE'].rsplit('.', 1)[-1]} ({where})",
        f"mjdash cache: {cache['BACKEND'].rsplit('.', 1)[-1]}{f' ({location})' if location else ''}",
    ]
