"""Settings for mjdash, every value read from the environment.

With nothing set, the dashboard runs in demo mode: SQLite in the project
folder and the built-in relay simulator (MJ_API_BASE empty).

Every variable is read here and only here, through the readers in
mjdash/env.py: unset or blank means the default, and a value that does not
parse or makes no sense stops start-up with ImproperlyConfigured naming the
variable. The README's configuration table lists them all.
"""

import math
import os
import tempfile
import zoneinfo
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from mjdash.env import (
    env,
    envbool,
    envchoice,
    envfloat,
    envint,
    envlist,
    envloglevel,
    envmatch,
    envnetworks,
    envrate,
    envurl,
    missing_partner,
)
from mjdash.media import bucket_origin, bucket_storage
from tasks_app import queues

BASE_DIR = Path(__file__).resolve().parent.parent

# ---- Core: DJANGO_DEBUG off is the production profile --------------------------
DEBUG = envbool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-key-change-me"
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off (e.g. mjdash.example.com)."
    )
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",  # the job table, whatever the backend: switching loses no history
    "axes",  # login throttling (see "Logins" below)
    "mjdash.apps.MjdashConfig",  # system checks of these settings (mjdash/checks.py)
    "tasks_app",
]

MIDDLEWARE = [
    "mjdash.middleware.RequestIdMiddleware",
    "mjdash.middleware.BodySizeLimitMiddleware",  # before anything reads a body (the CSRF check does)
    "mjdash.middleware.CompressionMiddleware",  # before every middleware that writes the body
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A thumbnail with its signed ?v= is served here, before sessions and logins, as
    # cheaply as whitenoise serves a static file; anything else goes on to its view.
    "tasks_app.images.middleware.SignedThumbnailMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mjdash.login.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "mjdash.not_found.NotFoundMiddleware",  # the dashboard's 404, under DEBUG too
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: turns a lockout into its page
]

ROOT_URLCONF = "mjdash.urls"
WSGI_APPLICATION = "mjdash.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tasks_app.context_processors.dashboard",
            ],
            # {% card %} on every page without a {% load %}: one bad record costs its card only.
            "builtins": ["tasks_app.templatetags.cards"],
        },
    },
]

# SQLite by default, tuned for a web server: WAL, a busy timeout and
# immediate transactions so concurrent writers queue instead of failing.
try:
    DATABASES = {
        "default": dj_database_url.parse(
            env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}").strip(), conn_max_age=60
        )
    }
except ValueError as error:  # the URL holds a password: name only what is wrong with it
    raise ImproperlyConfigured(
        f"DATABASE_URL must be a database URL such as postgres://user:pw@host/db or "
        f"sqlite:///path/db.sqlite3 ({error})"
    ) from None
# A persistent connection is checked before each request reuses it, so a
# PostgreSQL restart costs a reconnect, not a 500. SQLite keeps its connection
# too (CONN_MAX_AGE 60), so the PRAGMAs below run once per connection, not once
# per request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a file, not Django's shared-cache in-memory database: there a
    # second thread fails at once with "table is locked" instead of waiting
    # out the busy timeout, which is not how the dashboard runs.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"mjdash-test-{os.getpid()}.sqlite3")
    }

REDIS_URL = env("REDIS_URL").strip()
_redis_scheme = urlsplit(REDIS_URL).scheme
if REDIS_URL and _redis_scheme not in ("redis", "rediss", "unix"):
    # The URL may hold a password: name only its scheme.
    raise ImproperlyConfigured(
        "REDIS_URL must be a redis://, rediss:// or unix:// URL such as redis://127.0.0.1:6379/0, "
        f"got {_redis_scheme + '://...' if _redis_scheme else 'one without a scheme'}"
    )
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down: pages render from the database with a banner (mjdash/cache.py).
            "BACKEND": "mjdash.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mjdash",
            # A Redis that hangs costs a request one second, not the OS's minutes.
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
else:
    # One process (runserver, or one gunicorn worker): memory is the
    # fastest cache and needs no table; set REDIS_URL for more processes.
    # Room for a claim key per unfinished task of a 500-card page and more:
    # at the default 300 entries it culled a third of them, so a page's
    # freshness claims (and double-press guards) were lost mid-batch.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# ---- Logins: throttled by django-axes ---------------------------------------------
# Each password check costs ~1.6 s of CPU by design, and nothing stopped a flood.
# After MJ_LOGIN_FAILURE_LIMIT failures for one username from one address, that
# pair is refused (HTTP 429, registration/locked_out.html) without checking the
# password, until MJ_LOGIN_COOLOFF_MINUTES pass with no further failure. The pair,
# not the username alone: an attacker cannot lock a person out from their own
# address, nor everyone out from one address. Attempts live in the database
# (AxesDatabaseHandler), not the cache: the default cache is per process, so each
# gunicorn worker would count its own tries; the database is shared by every
# process and host, survives restarts, and the admin lists and clears lockouts.
# Failures from one address over every username are counted too, up to
# MJ_LOGIN_ADDRESS_FAILURE_LIMIT (password spraying). The address is
# REMOTE_ADDR, or behind a reverse proxy named in MJ_TRUSTED_PROXIES (addresses
# or networks) the client's address from X-Forwarded-For (mjdash/throttle.py);
# an X-Forwarded-For from anyone else is ignored.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any hashing
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "mjdash.throttle.LoginThrottle"  # django-axes' database handler, plus the per-address limit
AXES_CLIENT_IP_CALLABLE = "mjdash.throttle.client_address"
MJ_TRUSTED_PROXIES = envnetworks("MJ_TRUSTED_PROXIES", strict=True)
MJ_LOGIN_ADDRESS_FAILURE_LIMIT = envint("MJ_LOGIN_ADDRESS_FAILURE_LIMIT", 50, minimum=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = envint("MJ_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envfloat("MJ_LOGIN_COOLOFF_MINUTES", 15.0, above=0))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_DISABLE_ACCESS_LOG = True  # failures are what throttling needs; a row per good login is not

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC").strip()
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (ValueError, zoneinfo.ZoneInfoNotFoundError):
    raise ImproperlyConfigured(
        f"DJANGO_TIME_ZONE must be an IANA time zone such as UTC or Europe/Berlin, got {TIME_ZONE!r}"
    ) from None
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")).strip())
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")).strip())
STORAGES = {
    # Archived images: this, or a bucket when MJ_MEDIA_BUCKET is set (see "Images" below).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: whitenoise serves hashed, compressed copies made by collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---- The relay ---------------------------------------------------------------
# Demo mode is decided here and nowhere else: on by default when no relay is
# configured. In demo mode with no MJ_API_BASE, the run command (manage.py
# serve) starts the simulator, points MJ_API_BASE at it and fills
# MJ_DEMO_SAMPLE_IDS with the IDs every page offers to try.
MJ_API_BASE = envurl("MJ_API_BASE")
MJ_API_KEY = env("MJ_API_KEY")
MJ_DEMO_MODE = envbool("MJ_DEMO_MODE", not MJ_API_BASE)
MJ_DEMO_SAMPLE_IDS: list[str] = []
MJ_BATCH_SIZE = envint("MJ_BATCH_SIZE", 100, minimum=1)  # IDs per list-by-condition call
MJ_CONCURRENCY = envint("MJ_CONCURRENCY", 4, minimum=1)  # batches in flight at once
MJ_CONNECT_TIMEOUT = envfloat("MJ_CONNECT_TIMEOUT", 3.05, above=0)
MJ_READ_TIMEOUT = envfloat("MJ_READ_TIMEOUT", 20.0, above=0)
# Retries of 5xx, timeouts and connection errors, with a doubling backoff; a
# 429's Retry-After up to MJ_RETRY_AFTER_MAX seconds is waited out once.
MJ_RETRIES = envint("MJ_RETRIES", 2, minimum=0)
MJ_RETRY_BACKOFF = envfloat("MJ_RETRY_BACKOFF", 0.5, minimum=0)
MJ_RETRY_AFTER_MAX = envfloat("MJ_RETRY_AFTER_MAX", 5.0, minimum=0)
# The timeouts bound one connect and one read; MJ_RELAY_DEADLINE bounds a whole
# call, retries and waits included, however slowly the relay trickles its answer
# (a lookup's batches share one). MJ_RELAY_MAX_BYTES caps an answer while it is read.
MJ_RELAY_DEADLINE = envfloat("MJ_RELAY_DEADLINE", MJ_CONNECT_TIMEOUT + MJ_READ_TIMEOUT + 2, above=0)
MJ_RELAY_MAX_BYTES = envint("MJ_RELAY_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
# The largest submit sent to the relay (its JSON body, reference images included):
# a larger one is refused before a byte leaves.
MJ_SUBMIT_MAX_BYTES = envint("MJ_SUBMIT_MAX_BYTES", 16 * 1024 * 1024, minimum=1)
MJ_MAX_IDS = envint("MJ_MAX_IDS", 500, minimum=1)  # most IDs one set holds (a paste keeps the first)
# Cards a set's page shows at once; the next page comes as one scrolls to it.
MJ_SET_PAGE_CARDS = envint("MJ_SET_PAGE_CARDS", 100, minimum=1)
MJ_RECENT_TASKS = envint("MJ_RECENT_TASKS", 24, minimum=0)  # tasks the home page shows from recent sets
# A deleted set is kept this many days (its link says "deleted" and offers a restore), then purged.
MJ_SET_PURGE_DAYS = envint("MJ_SET_PURGE_DAYS", 30, minimum=1)

# ---- Buttons: pressing one starts a paid job at the relay ------------------------
# Presses of one button of one task within MJ_PRESS_WINDOW_SECONDS reach the
# relay once (a double press, two tabs, two browsers). Each user may press at
# most MJ_PRESS_RATE ("<count>/<unit>", unit s, min, hour or day), counted in
# the shared cache: MJ_PRESS_RATE is the text shown in the refusal,
# MJ_PRESS_RATE_LIMIT the same as (count, period in seconds).
MJ_PRESS_WINDOW_SECONDS = envfloat("MJ_PRESS_WINDOW_SECONDS", 10.0, minimum=0)
MJ_PRESS_RATE, MJ_PRESS_RATE_LIMIT = envrate("MJ_PRESS_RATE", "20/min")
MJ_MASK_MAX_BYTES = envint("MJ_MASK_MAX_BYTES", 8 * 1024 * 1024, minimum=1)  # a Vary (Region) mask upload
# One reference image of a Create form (imagine, blend, describe), as uploaded
# and again once cleaned (verified, re-encoded, metadata stripped).
MJ_UPLOAD_MAX_BYTES = envint("MJ_UPLOAD_MAX_BYTES", 4 * 1024 * 1024, minimum=1)
# A press is sent by a background job; the request waits this long for its
# answer, then answers "sent" and the page asks again until the relay answers.
MJ_PRESS_ANSWER_SECONDS = envfloat("MJ_PRESS_ANSWER_SECONDS", 1.0, minimum=0)
# A page about IDs never seen waits this long for the worker that looks them up,
# then shows "looking up…" cards its poller fills in; at most MJ_LOOKUP_WAITERS
# requests of a process wait at once (keep it below GUNICORN_THREADS), the
# others answer at once, so a slow relay never holds every thread.
MJ_LOOKUP_WAIT_SECONDS = envfloat("MJ_LOOKUP_WAIT_SECONDS", 1.0, minimum=0)
MJ_LOOKUP_WAITERS = envint("MJ_LOOKUP_WAITERS", 2, minimum=1)
# The largest request body accepted at all, refused from its declared length
# before it is read (mjdash/middleware.py): the larger of a mask upload and a
# Create form's five reference images (the relay's limit), and a form around it.
MJ_MAX_BODY_BYTES = envint(
    "MJ_MAX_BODY_BYTES", max(MJ_MASK_MAX_BYTES, 5 * MJ_UPLOAD_MAX_BYTES) + 1024 * 1024, minimum=1
)

# ---- Live updates: polling, shared freshness, stalls, the notify hook ------------
# One poller per page asks every MJ_POLL_INTERVAL s, backing off up to
# MJ_POLL_MAX_INTERVAL while the relay fails. An unfinished task is asked of
# the relay at most once per MJ_FRESHNESS_SECONDS across all viewers and
# processes (the guard lives in the shared cache); a task unchanged for
# MJ_STALL_MINUTES is "stalled" and asked only every MJ_STALL_POLL_SECONDS.
MJ_POLL_INTERVAL = envfloat("MJ_POLL_INTERVAL", 3.0, above=0)
MJ_POLL_MAX_INTERVAL = envfloat("MJ_POLL_MAX_INTERVAL", 30.0, above=0)
if MJ_POLL_MAX_INTERVAL < MJ_POLL_INTERVAL:
    raise ImproperlyConfigured(
        f"MJ_POLL_MAX_INTERVAL must be at least MJ_POLL_INTERVAL ({MJ_POLL_INTERVAL:g}), "
        f"got {MJ_POLL_MAX_INTERVAL:g}"
    )
MJ_FRESHNESS_SECONDS = envfloat("MJ_FRESHNESS_SECONDS", 2.0, minimum=0)
MJ_STALL_MINUTES = envfloat("MJ_STALL_MINUTES", 10.0, above=0)
MJ_STALL_POLL_SECONDS = envfloat("MJ_STALL_POLL_SECONDS", 30.0, above=0)
# The relay may push task objects to /hooks/notify/<MJ_NOTIFY_TOKEN>;
# MJ_NOTIFY_URL is this dashboard's base URL as the relay reaches it (e.g.
# https://mjdash.example.com), and submitted actions carry
# <MJ_NOTIFY_URL>/hooks/notify/<MJ_NOTIFY_TOKEN> as their notifyHook. One
# without the other is refused in production and a warning under DEBUG
# (mjdash/checks.py).
MJ_NOTIFY_TOKEN = env("MJ_NOTIFY_TOKEN")
if "/" in MJ_NOTIFY_TOKEN:
    raise ImproperlyConfigured("MJ_NOTIFY_TOKEN must not contain '/': it is one segment of the hook's path")
MJ_NOTIFY_URL = envurl("MJ_NOTIFY_URL")
_notify_problem = missing_partner(MJ_NOTIFY_TOKEN=MJ_NOTIFY_TOKEN, MJ_NOTIFY_URL=MJ_NOTIFY_URL)
if _notify_problem and not DEBUG:
    raise ImproperlyConfigured(
        f"{_notify_problem}: the notify hook needs both (or neither) when DJANGO_DEBUG is off."
    )

# ---- Images: archive, thumbnails and the download guard --------------------------
# A finished task's images are downloaded once, by a background worker, into
# default storage; the download refuses loopback/private/link-local/multicast/
# reserved addresses unless MJ_IMAGE_ALLOW_LOOPBACK (the simulator, demo mode)
# or a CIDR in MJ_IMAGE_ALLOWED_NETWORKS allows them. MJ_IMAGE_TIMEOUT bounds a
# whole download. A transient failure (timeout, network, 5xx) is tried again
# MJ_IMAGE_RETRIES times, after MJ_IMAGE_RETRY_BACKOFF seconds, doubling.
MJ_THUMB_SIZE = envint("MJ_THUMB_SIZE", 512, minimum=1)
MJ_IMAGE_MAX_BYTES = envint("MJ_IMAGE_MAX_BYTES", 40 * 1024 * 1024, minimum=1)
# Judged from the header before decoding: a decoded picture costs up to 4 bytes a
# pixel, so these bound an image worker's memory (Midjourney's largest, a 4x
# upscale, is 4096x4096 = 16.8 M pixels). Pillow's own guard (Image.MAX_IMAGE_PIXELS)
# is set to the same limit in tasks_app/apps.py.
MJ_IMAGE_MAX_PIXELS = envint("MJ_IMAGE_MAX_PIXELS", 40_000_000, minimum=1)
MJ_IMAGE_MAX_ASPECT = envfloat("MJ_IMAGE_MAX_ASPECT", 20.0, minimum=1)  # longest side / shortest side
MJ_IMAGE_CONNECT_TIMEOUT = envfloat("MJ_IMAGE_CONNECT_TIMEOUT", 3.05, above=0)
MJ_IMAGE_TIMEOUT = envfloat("MJ_IMAGE_TIMEOUT", 30.0, above=0)
MJ_IMAGE_MAX_REDIRECTS = envint("MJ_IMAGE_MAX_REDIRECTS", 3, minimum=0)
MJ_IMAGE_ALLOW_LOOPBACK = envbool("MJ_IMAGE_ALLOW_LOOPBACK", False)
MJ_IMAGE_ALLOWED_NETWORKS = envnetworks("MJ_IMAGE_ALLOWED_NETWORKS")
MJ_IMAGE_RETRIES = envint("MJ_IMAGE_RETRIES", 4, minimum=0)
MJ_IMAGE_RETRY_BACKOFF = envfloat("MJ_IMAGE_RETRY_BACKOFF", 10.0, above=0)

# ---- Where archived images live: MEDIA_ROOT, or an S3-compatible bucket ---------
# With MJ_MEDIA_BUCKET set, every host (web and worker) reads and writes one bucket
# (AWS S3, or R2, MinIO, OSS, COS... through MJ_MEDIA_ENDPOINT_URL) and MEDIA_ROOT
# holds nothing. Credentials: MJ_MEDIA_ACCESS_KEY_ID + MJ_MEDIA_SECRET_ACCESS_KEY,
# or, with neither, boto3's usual chain (AWS_ACCESS_KEY_ID..., ~/.aws, an instance
# role). Images are served after the login check by a redirect to a URL signed for
# MJ_MEDIA_URL_SECONDS, or streamed through the app (MJ_MEDIA_SERVE=stream: the
# bucket need not be reachable by browsers). Each call to the bucket is bounded by
# MJ_MEDIA_TIMEOUT per connect and per read, three attempts at most, and by
# MJ_MEDIA_DEADLINE as a whole, however slowly the bucket answers.
MJ_MEDIA_BUCKET = envmatch(
    "MJ_MEDIA_BUCKET",
    r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
    "an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens) such as mjdash-media",
)
MJ_MEDIA_ENDPOINT_URL = envurl("MJ_MEDIA_ENDPOINT_URL")
MJ_MEDIA_REGION = envmatch("MJ_MEDIA_REGION", r"[a-z0-9][a-z0-9-]{0,39}", "a region such as eu-west-1")
MJ_MEDIA_ACCESS_KEY_ID = env("MJ_MEDIA_ACCESS_KEY_ID").strip()
MJ_MEDIA_SECRET_ACCESS_KEY = env("MJ_MEDIA_SECRET_ACCESS_KEY").strip()
# A folder of the bucket (e.g. mjdash/prod): several dashboards may share one bucket.
MJ_MEDIA_PREFIX = envmatch(
    "MJ_MEDIA_PREFIX",
    r"/*(?!\.{1,2}(?:/|$))[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/(?!\.{1,2}(?:/|$))[A-Za-z0-9._-]+)*/*",
    "a key prefix of letters, digits, '.', '_', '-' and '/' such as mjdash/prod",
).strip("/")
# Path style (https://endpoint/bucket/key) suits MinIO and most self-hosted servers;
# virtual-host style (https://bucket.endpoint/key) is what OSS requires; auto: boto3's choice.
MJ_MEDIA_ADDRESSING_STYLE = envchoice("MJ_MEDIA_ADDRESSING_STYLE", "auto", ("auto", "path", "virtual"))
MJ_MEDIA_SERVE = envchoice("MJ_MEDIA_SERVE", "redirect", ("redirect", "stream"))
# SigV4 signs for a week at most.
MJ_MEDIA_URL_SECONDS = envint("MJ_MEDIA_URL_SECONDS", 300, minimum=10, maximum=7 * 24 * 3600)
MJ_MEDIA_TIMEOUT = envfloat("MJ_MEDIA_TIMEOUT", 20.0, above=0)
MJ_MEDIA_DEADLINE = envfloat("MJ_MEDIA_DEADLINE", 60.0, above=0)
_half_credentials = missing_partner(
    MJ_MEDIA_ACCESS_KEY_ID=MJ_MEDIA_ACCESS_KEY_ID, MJ_MEDIA_SECRET_ACCESS_KEY=MJ_MEDIA_SECRET_ACCESS_KEY
)
if _half_credentials:
    raise ImproperlyConfigured(f"{_half_credentials}: a bucket's credentials are a pair (or set neither).")
for _name in (
    "MJ_MEDIA_ENDPOINT_URL",
    "MJ_MEDIA_REGION",
    "MJ_MEDIA_ACCESS_KEY_ID",
    "MJ_MEDIA_PREFIX",
    "MJ_MEDIA_ADDRESSING_STYLE",
    "MJ_MEDIA_SERVE",
    "MJ_MEDIA_URL_SECONDS",
    "MJ_MEDIA_TIMEOUT",
    "MJ_MEDIA_DEADLINE",
):
    if env(_name) and not MJ_MEDIA_BUCKET:
        raise ImproperlyConfigured(f"{_name} is set without MJ_MEDIA_BUCKET: it applies to a bucket only.")
if MJ_MEDIA_BUCKET:
    STORAGES["default"] = bucket_storage(
        bucket=MJ_MEDIA_BUCKET,
        endpoint_url=MJ_MEDIA_ENDPOINT_URL,
        region=MJ_MEDIA_REGION,
        access_key=MJ_MEDIA_ACCESS_KEY_ID,
        secret_key=MJ_MEDIA_SECRET_ACCESS_KEY,
        prefix=MJ_MEDIA_PREFIX,
        addressing_style=MJ_MEDIA_ADDRESSING_STYLE,
        url_seconds=MJ_MEDIA_URL_SECONDS,
        timeout=MJ_MEDIA_TIMEOUT,
        largest_upload=MJ_IMAGE_MAX_BYTES,
    )

# ---- Background work: Django's Tasks framework (django.tasks) ------------------
# Workers follow every unfinished task and archive every finished image, with
# no page open. MJ_TASK_BACKEND picks the queue: "database" (django-tasks-db,
# `manage.py worker`; SQLite for one machine, PostgreSQL for several), "rq"
# (django-tasks-rq over REDIS_URL, `manage.py worker` on any number of hosts)
# or "immediate" (runs each job at once, in the process that enqueues it: for
# tests and one-off scripts). Workers ask the relay about due unfinished tasks
# every MJ_FOLLOW_SECONDS in one batched call. A job that claimed an image
# renews its claim while it works; a claim not renewed for MJ_CLAIM_SECONDS
# (its worker died) is taken over.
MJ_TASK_BACKEND = envchoice("MJ_TASK_BACKEND", "database", ("database", "rq", "immediate"))
if MJ_TASK_BACKEND == "rq" and not REDIS_URL:
    raise ImproperlyConfigured("MJ_TASK_BACKEND=rq needs REDIS_URL (the queue lives in Redis).")
# Named queues (tasks_app/queues.py): follow ticks and presses never wait behind
# an image download. `make run` / `make prod` start one worker for the urgent
# queues and MJ_IMAGE_WORKERS (default: one per core) for images; one image job
# holds its worker at most MJ_IMAGE_JOB_SECONDS (then it is stopped and fails).
MJ_IMAGE_WORKERS = envint("MJ_IMAGE_WORKERS", os.cpu_count() or 1, minimum=1)
MJ_IMAGE_JOB_SECONDS = envfloat("MJ_IMAGE_JOB_SECONDS", MJ_IMAGE_TIMEOUT + 60, above=0)
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "rq": "django_tasks_rq.RQBackend",
            "immediate": "django.tasks.backends.immediate.ImmediateBackend",
        }[MJ_TASK_BACKEND],
        "QUEUES": list(queues.ALL),
    }
}
if REDIS_URL:  # the RQ queues (and `manage.py worker` with RQ) are there whenever Redis is
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {name: {"URL": REDIS_URL} for name in queues.ALL}
    RQ_QUEUES[queues.IMAGES]["DEFAULT_TIMEOUT"] = math.ceil(MJ_IMAGE_JOB_SECONDS)
MJ_FOLLOW_SECONDS = envfloat("MJ_FOLLOW_SECONDS", 2.0, above=0)
MJ_CLAIM_SECONDS = envfloat("MJ_CLAIM_SECONDS", 15.0, above=0)
# /readyz warns (still 200) while the oldest waiting job has waited longer than this.
MJ_QUEUE_STALE_SECONDS = envfloat("MJ_QUEUE_STALE_SECONDS", 120.0, above=0)

# Logs go to stdout, one line per event: JSON in production (DJANGO_LOG_FORMAT
# "json"), readable text in development ("plain"); both carry the request ID and
# pass through a filter that redacts the API key and other secrets (mjdash/logs.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "mjdash.logs.RequestIdFilter"},
        "redact": {"()": "mjdash.logs.RedactSecretsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "mjdash.logs.JsonFormatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": envchoice("DJANGO_LOG_FORMAT", "plain" if DEBUG else "json", ("plain", "json")),
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["stdout"], "level": envloglevel("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # runserver's own access line duplicates mjdash.request's.
        "django.server": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # its "BEGIN" line on every start and command
    },
}

# ---- Production profile: DJANGO_DEBUG off -----------------------------------
# A real relay is required (demo mode is `make run`), and https is assumed:
# `manage.py check --deploy` is clean with the defaults below. Behind a proxy
# that terminates TLS, set DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
# (only when the proxy always sets that header). For a local `make prod` over
# plain http, DJANGO_SSL_REDIRECT=0.
if not DEBUG and not MJ_API_BASE:
    raise ImproperlyConfigured("MJ_API_BASE must be set when DJANGO_DEBUG is off (demo mode is `make run`).")
SECURE_SSL_REDIRECT = envbool("DJANGO_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain http
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The header is named as Django's request.META spells it: HTTP_ + upper case.
_proxy_header = envlist("DJANGO_SECURE_PROXY_SSL_HEADER")
if _proxy_header and (
    len(_proxy_header) != 2 or not _proxy_header[0].startswith("HTTP_") or not _proxy_header[0].isupper()
):
    raise ImproperlyConfigured(
        "DJANGO_SECURE_PROXY_SSL_HEADER must be 'HTTP_HEADER_NAME,value' such as "
        f"HTTP_X_FORWARDED_PROTO,https, got {','.join(_proxy_header)!r}"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
X_FRAME_OPTIONS = "DENY"
_REFERRER_POLICIES = (
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
)
# One policy, or several comma separated (browsers use the last they know).
_referrer_policies = envlist("DJANGO_REFERRER_POLICY", "same-origin")
for _policy in _referrer_policies:
    if _policy not in _REFERRER_POLICIES:
        raise ImproperlyConfigured(
            f"DJANGO_REFERRER_POLICY must be one or more of {', '.join(_REFERRER_POLICIES)}, got {_policy!r}"
        )
SECURE_REFERRER_POLICY = ",".join(_referrer_policies)
SECURE_CONTENT_TYPE_NOSNIFF = True

# ---- Content-Security-Policy: only the site itself ---------------------------
# htmx comes from static ({% htmx_script %}); no inline script or style anywhere
# (base.html turns off htmx's injected indicator style). Enforced in production;
# report-only under DEBUG, so Django's debug pages keep their inline styles
# while the browser tests still see every violation. Images: this site and
# data: URLs; MJ_CSP_IMG_SRC adds hosts (comma separated, e.g. the relay's image
# CDN while cards show upstream images directly); DEBUG and demo mode add
# loopback, where the simulator serves its images; a bucket that images are
# redirected to (MJ_MEDIA_SERVE=redirect) adds its own origin.
MJ_CSP_IMG_SRC = envlist("MJ_CSP_IMG_SRC")
for _source in MJ_CSP_IMG_SRC:
    if ";" in _source or any(char.isspace() for char in _source):
        raise ImproperlyConfigured(
            f"MJ_CSP_IMG_SRC must be comma-separated sources such as https://cdn.example.com, got {_source!r}"
        )
_img_src = [CSP.SELF, "data:", *MJ_CSP_IMG_SRC]
if MJ_MEDIA_BUCKET and MJ_MEDIA_SERVE == "redirect":  # image routes redirect to signed bucket URLs
    _img_src.append(
        bucket_origin(
            bucket=MJ_MEDIA_BUCKET,
            endpoint_url=MJ_MEDIA_ENDPOINT_URL,
            region=MJ_MEDIA_REGION,
            addressing_style=MJ_MEDIA_ADDRESSING_STYLE,
        )
    )
if DEBUG or MJ_DEMO_MODE:
    _img_src += ["http://127.0.0.1:*", "http://localhost:*"]
MJ_CSP_POLICY = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": _img_src,
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if envbool("DJANGO_CSP_REPORT_ONLY", DEBUG):
    SECURE_CSP, SECURE_CSP_REPORT_ONLY = {}, MJ_CSP_POLICY
else:
    SECURE_CSP, SECURE_CSP_REPORT_ONLY = MJ_CSP_POLICY, {}
