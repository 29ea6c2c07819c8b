"""Logs: one JSON line per event with the request ID, and never a secret."""

import io
import json
import logging

import pytest

from mjdash.logs import REDACTED, JsonFormatter, RedactSecretsFilter, redact
from tests.conftest import API_KEY


@pytest.fixture
def stdout_log():
    """The configured stdout handler (our filters included), writing into a buffer."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    buffer = io.StringIO()
    old_stream, old_formatter = handler.setStream(buffer), handler.formatter
    handler.setFormatter(JsonFormatter())
    yield buffer
    handler.setStream(old_stream)
    handler.setFormatter(old_formatter)


def lines(buffer):
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_the_api_key_never_reaches_the_log(stdout_log, settings):
    settings.MJ_API_KEY = API_KEY
    log = logging.getLogger("tasks_app.relay.client")
    log.warning("calling relay with key %s", API_KEY)
    log.warning("headers: %r", {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"})
    try:
        raise RuntimeError(f"relay said no to {API_KEY}")
    except RuntimeError:
        log.exception("lookup failed")
    output = stdout_log.getvalue()
    assert API_KEY not in output
    assert output.count(REDACTED) >= 3
    assert "'Accept': 'application/json'" in output  # the rest stays readable


def test_authorization_headers_and_url_passwords_are_redacted_whatever_the_value():
    text = (
        "Authorization: Bearer abc.def-123 | {'authorization': 'Basic dXNlcjpwdw=='} | "
        "sent bearer tok_9f8e7d | postgres://mjdash:hunter2@db:5432/mjdash"
    )
    cleaned = redact(text, secrets=[])
    for secret in ("abc.def-123", "dXNlcjpwdw==", "tok_9f8e7d", "hunter2"):
        assert secret not in cleaned
    assert "postgres://mjdash:[REDACTED]@db:5432/mjdash" in cleaned


def test_each_request_logs_one_json_line_with_its_request_id(client, stdout_log):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="req-0123456789")
    assert response.headers["X-Request-ID"] == "req-0123456789"
    entries = [e for e in lines(stdout_log) if e["logger"] == "mjdash.request"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["request_id"] == "req-0123456789"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/healthz", 200)
    assert {"time", "level", "message", "duration_ms", "pid"} <= set(entry)


def test_records_outside_a_request_carry_a_dash(stdout_log):
    logging.getLogger("mjdash").info("started")
    assert lines(stdout_log)[-1]["request_id"] == "-"


@pytest.mark.django_db
def test_the_notify_token_in_a_request_path_never_reaches_the_log(stdout_log, client, settings):
    settings.MJ_NOTIFY_TOKEN = "hook-token-7d1e55aa"
    client.post("/hooks/notify/hook-token-7d1e55aa", data="not json", content_type="application/json")
    output = stdout_log.getvalue()
    assert "/hooks/notify/" in output
    assert "hook-token-7d1e55aa" not in output


def test_the_buckets_secret_never_reaches_the_log(stdout_log, settings):
    settings.MJ_MEDIA_SECRET_ACCESS_KEY = "bucket-secret-5c2a9e01"
    logging.getLogger("mjdash").error("upload refused for key bucket-secret-5c2a9e01")
    output = stdout_log.getvalue()
    assert "upload refused" in output
    assert "bucket-secret-5c2a9e01" not in output
