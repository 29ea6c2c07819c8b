"""The production profile (DJANGO_DEBUG off): deploy checks, refusals, headers, readiness."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from mjdash import health
from tasks_app import queues

ROOT = Path(__file__).resolve().parents[2]
SECRET = "prod-test-" + "k3y-" * 12  # long and varied enough for check --deploy

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "mjdash.example.com",
    "MJ_API_BASE": "https://relay.example.com",
    "MJ_API_KEY": "sk-prod-test",
}


def manage(*args, **env_changes):
    """Run manage.py in a fresh process with the production environment (plus changes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MJ_"))}
    env.update(PRODUCTION_ENV)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_reports_nothing_in_the_production_profile():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_speaks_up_when_a_local_run_turns_https_off():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SSL_REDIRECT="0")
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "MJ_API_BASE"])
def test_production_refuses_to_start_without(missing):
    result = manage("check", **{missing: None})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set" in result.stderr


def test_production_settings_use_hashed_compressed_static_and_enforce_the_csp():
    code = (
        "from django.conf import settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND']); "
        "print(bool(s.SECURE_CSP), bool(s.SECURE_CSP_REPORT_ONLY)); "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.X_FRAME_OPTIONS)"
    )
    result = manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "True False",
        "31536000 True True DENY",
    ]


def test_the_proxy_header_setting_is_read_from_the_environment():
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    result = manage(
        "shell", "--no-imports", "-c", code, DJANGO_SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https"
    )
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


# ---- headers every response carries (development profile: CSP report-only)


def test_pages_carry_the_security_headers_and_a_request_id(client):
    response = client.get("/accounts/login/")
    csp = (
        response.headers.get("Content-Security-Policy")
        or response.headers["Content-Security-Policy-Report-Only"]
    )
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'self'",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert len(response.headers["X-Request-ID"]) == 32


def test_an_incoming_request_id_is_kept_and_a_malformed_one_replaced(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c01").headers["X-Request-ID"] == "lb-7f3a9c01"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nINFO forged").headers["X-Request-ID"]
    assert replaced != "bad id\nINFO forged" and len(replaced) == 32


# ---- readiness


@pytest.mark.django_db
def test_readyz_is_ok_without_login_when_database_cache_and_relay_answer(client, settings):
    settings.MJ_API_BASE = "http://127.0.0.1:9"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "upstream": "ok", "cache": "ok", "media": "ok"},
        "failing": [],
        "warnings": [],
        "engine": {"backend": "immediate"},
    }


@pytest.mark.django_db(transaction=True)
def test_a_backlog_of_1000_jobs_is_reported_and_pages_keep_serving(logged_in, client, settings):
    settings.MJ_API_BASE = "http://127.0.0.1:9"
    settings.MJ_TASK_BACKEND = "database"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": list(queues.ALL)}}
    settings.MJ_QUEUE_STALE_SECONDS = 60
    from django_tasks_db.models import DBTaskResult

    from tasks_app.images import jobs as image_jobs
    from tasks_app.workers import heartbeat

    beat = heartbeat.Heartbeat(name="web-1-1234-abcd", queues=["images"], counts=lambda: (7, 0))
    beat.beat()  # one worker seen, on another host of the same database
    thumbs = [[f"17430000000{n:05d}", 0, "token"] for n in range(1000)]
    image_jobs._enqueue_all(image_jobs.image_thumb, thumbs, image_jobs.THUMB)  # one INSERT
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=5))

    response = client.get("/readyz")
    page = logged_in.get("/tasks/")

    assert response.status_code == 200  # a web-only host stays in the load balancer
    body = response.json()
    assert body["status"] == "degraded" and body["failing"] == []
    waited = body["engine"]["oldest_waiting_seconds"]
    assert body["warnings"] == [f"backlog: oldest job waiting {waited:.0f} s"]
    assert body["engine"]["waiting"] == 1000 and body["engine"]["backlog"] is True
    assert body["engine"]["oldest_waiting_seconds"] == pytest.approx(300, abs=30)
    assert body["engine"]["workers_seen"] == 1
    assert body["engine"]["workers"][0] | {"host": "-"} == {
        "name": "web-1-1234-abcd",
        "host": "-",
        "queues": "images",
        "jobs_done": 7,
    }
    assert page.status_code == 200

    DBTaskResult.objects.update(enqueued_at=timezone.now())  # the workers caught up
    caught_up = client.get("/readyz").json()
    assert caught_up["status"] == "ok" and caught_up["engine"]["backlog"] is False


@pytest.mark.django_db
def test_readyz_asks_the_bucket_once_in_a_while_and_reports_one_that_fails_as_degraded(
    client, settings, bucket, s3_server, monkeypatch
):
    settings.MJ_API_BASE = "http://127.0.0.1:9"
    bucket.reset()

    answers = [client.get("/readyz") for _ in range(5)]

    assert {a.status_code for a in answers} == {200}
    assert {a.json()["checks"]["media"] for a in answers} == {"ok"}
    assert [(call.method, call.key) for call in bucket.calls] == [("HEAD", "")]  # once for five probes

    s3_server.client().delete_bucket(Bucket=bucket.name)  # deleted, or the credentials lost access
    monkeypatch.setattr(health, "MEDIA_CHECK_SECONDS", 0.0)  # the next probe asks again
    response = client.get("/readyz")

    assert response.status_code == 200  # pages serve; archived images do not
    body = response.json()
    assert body["status"] == "degraded" and body["failing"] == []
    assert body["checks"]["media"] == "error: checking the bucket: the bucket answered 404"
    assert body["warnings"] == ["media: error: checking the bucket: the bucket answered 404"]


@pytest.mark.django_db
def test_readyz_names_an_unconfigured_relay(client, settings):
    settings.MJ_API_BASE = ""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["upstream"]


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_cache_and_stays_ready(client, settings):
    settings.MJ_API_BASE = "http://127.0.0.1:9"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # discard port: nothing listens
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 200  # pages render from the database, with a banner
    body = response.json()
    assert body["status"] == "degraded" and body["failing"] == []
    assert body["checks"]["cache"].startswith("error: ")
    assert body["warnings"] == [f"cache: {body['checks']['cache']}"]


@pytest.mark.django_db
def test_readyz_names_an_unreachable_database(client, settings, monkeypatch):
    settings.MJ_API_BASE = "http://127.0.0.1:9"

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"]["database"] == "error: OperationalError"
