"""Settings for mjdash, every value read from the environment.

With nothing set, the dashboard runs in demo mode: SQLite in the project
folder and the built-in relay simulator (MJ_API_BASE empty).
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from mjdash.env import env, envbool, envfloat, envint, envlist

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-key-change-me"
ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
if not DEBUG and not envlist("DJANGO_ALLOWED_HOSTS"):
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
    "tasks_app",
]

MIDDLEWARE = [
    "mjdash.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mjdash.login.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
        },
    },
]

# SQLite by default, tuned for a web server: WAL, a busy timeout and
# immediate transactions so concurrent writers queue instead of failing.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
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

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "mjdash",
        }
    }
else:
    # One process (runserver, or one gunicorn worker): memory is the
    # fastest cache and needs no table; set REDIS_URL for more processes.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production: whitenoise serves hashed, compressed copies made by collectstatic.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The relay. With no MJ_API_BASE the run command starts the simulator and
# points MJ_API_BASE at it (demo mode).
MJ_API_BASE = env("MJ_API_BASE").rstrip("/")
MJ_API_KEY = env("MJ_API_KEY")
MJ_DEMO_MODE = envbool("MJ_DEMO_MODE", not MJ_API_BASE)
MJ_BATCH_SIZE = envint("MJ_BATCH_SIZE", 100)
MJ_CONCURRENCY = envint("MJ_CONCURRENCY", 4)
MJ_CONNECT_TIMEOUT = envfloat("MJ_CONNECT_TIMEOUT", 3.05)
MJ_READ_TIMEOUT = envfloat("MJ_READ_TIMEOUT", 20.0)
MJ_RETRIES = envint("MJ_RETRIES", 2)
MJ_RETRY_BACKOFF = envfloat("MJ_RETRY_BACKOFF", 0.5)
MJ_RETRY_AFTER_MAX = envfloat("MJ_RETRY_AFTER_MAX", 5.0)
MJ_MAX_IDS = envint("MJ_MAX_IDS", 500)
MJ_RECENT_TASKS = envint("MJ_RECENT_TASKS", 24)

# ---- Buttons (issue 3): pressing one starts a paid job at the relay.
# Presses of one button of one task within MJ_PRESS_WINDOW_SECONDS reach the
# relay once (a double press, two tabs, two browsers); each user may press at
# most MJ_PRESS_RATE ("<count>/<sec|min|hour>", counted in the shared cache).
MJ_PRESS_WINDOW_SECONDS = envfloat("MJ_PRESS_WINDOW_SECONDS", 10.0)
MJ_PRESS_RATE = env("MJ_PRESS_RATE", "20/min")
MJ_MASK_MAX_BYTES = envint("MJ_MASK_MAX_BYTES", 8 * 1024 * 1024)

# ---- Live updates (issue 3): polling, shared freshness, stalls, notifyHook.
# One poller per page asks every MJ_POLL_INTERVAL s, backing off up to
# MJ_POLL_MAX_INTERVAL while the relay fails. An unfinished task is asked of
# the relay at most once per MJ_FRESHNESS_SECONDS across all viewers and
# processes (the guard lives in the shared cache); a task unchanged for
# MJ_STALL_MINUTES is "stalled" and asked only every MJ_STALL_POLL_SECONDS.
# With MJ_NOTIFY_TOKEN set, the relay may push task objects to
# /hooks/notify/<token>; MJ_NOTIFY_URL is this dashboard's base URL as the
# relay reaches it (e.g. https://mjdash.example.com), sent with submitted actions.
MJ_POLL_INTERVAL = envfloat("MJ_POLL_INTERVAL", 3.0)
MJ_POLL_MAX_INTERVAL = envfloat("MJ_POLL_MAX_INTERVAL", 30.0)
MJ_FRESHNESS_SECONDS = envfloat("MJ_FRESHNESS_SECONDS", 2.0)
MJ_STALL_MINUTES = envfloat("MJ_STALL_MINUTES", 10.0)
MJ_STALL_POLL_SECONDS = envfloat("MJ_STALL_POLL_SECONDS", 30.0)
MJ_NOTIFY_TOKEN = env("MJ_NOTIFY_TOKEN")
MJ_NOTIFY_URL = env("MJ_NOTIFY_URL").rstrip("/")

# ---- Images (issue 4): archive, thumbnails and the download guard.
# A finished task's images are downloaded once into default storage; the
# download refuses loopback/private/link-local/multicast/reserved addresses
# unless MJ_IMAGE_ALLOW_LOOPBACK (the simulator, demo mode) or a CIDR in
# MJ_IMAGE_ALLOWED_NETWORKS allows them. MJ_IMAGE_TIMEOUT bounds a whole
# download; MJ_IMAGE_LOCK_WAIT is how long a request waits for another one
# that is already downloading the same image before it answers "not yet".
MJ_THUMB_SIZE = envint("MJ_THUMB_SIZE", 512)
MJ_IMAGE_MAX_BYTES = envint("MJ_IMAGE_MAX_BYTES", 40 * 1024 * 1024)
MJ_IMAGE_MAX_PIXELS = envint("MJ_IMAGE_MAX_PIXELS", 89_478_485)  # Pillow's own default
MJ_IMAGE_CONNECT_TIMEOUT = envfloat("MJ_IMAGE_CONNECT_TIMEOUT", 3.05)
MJ_IMAGE_TIMEOUT = envfloat("MJ_IMAGE_TIMEOUT", 30.0)
MJ_IMAGE_MAX_REDIRECTS = envint("MJ_IMAGE_MAX_REDIRECTS", 3)
MJ_IMAGE_ALLOW_LOOPBACK = envbool("MJ_IMAGE_ALLOW_LOOPBACK", False)
MJ_IMAGE_ALLOWED_NETWORKS = envlist("MJ_IMAGE_ALLOWED_NETWORKS")
MJ_IMAGE_LOCK_WAIT = envfloat("MJ_IMAGE_LOCK_WAIT", 10.0)

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
            "formatter": env("DJANGO_LOG_FORMAT", "plain" if DEBUG else "json"),
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["stdout"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # runserver's own access line duplicates mjdash.request's.
        "django.server": {"level": "WARNING"},
    },
}

# ---- Production profile (issue 5): DJANGO_DEBUG off -------------------------
# `manage.py check --deploy` is clean with the defaults below. Behind a proxy
# that terminates TLS, set DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
# (only when the proxy always sets that header). For a local `make prod` over
# plain http, DJANGO_SSL_REDIRECT=0.
if not DEBUG and not MJ_API_BASE:
    raise ImproperlyConfigured("MJ_API_BASE must be set when DJANGO_DEBUG is off (demo mode is `make run`).")
SECURE_SSL_REDIRECT = envbool("DJANGO_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancers probe over plain http
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = envbool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
_proxy_header = envlist("DJANGO_SECURE_PROXY_SSL_HEADER")
if _proxy_header and len(_proxy_header) != 2:
    raise ImproperlyConfigured(
        "DJANGO_SECURE_PROXY_SSL_HEADER is 'HEADER,value', e.g. HTTP_X_FORWARDED_PROTO,https"
    )
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = env("DJANGO_REFERRER_POLICY", "same-origin")
SECURE_CONTENT_TYPE_NOSNIFF = True

# ---- Content-Security-Policy: only the site itself ---------------------------
# htmx comes from static ({% htmx_script %}); no inline script or style anywhere
# (base.html turns off htmx's injected indicator style). Enforced in production;
# report-only under DEBUG, so Django's debug pages keep their inline styles
# while the browser tests still see every violation. Images: this site and
# data: URLs; MJ_CSP_IMG_SRC adds hosts (comma separated, e.g. the relay's image
# CDN while cards show upstream images directly); DEBUG and demo mode add
# loopback, where the simulator serves its images.
MJ_CSP_IMG_SRC = envlist("MJ_CSP_IMG_SRC")
_img_src = [CSP.SELF, "data:", *MJ_CSP_IMG_SRC]
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
