"""Settings that refuse nonsense: every variable parsed once, at start-up, or start-up stops.

Most tests load the settings in a fresh process with a controlled environment
(nothing of this run's MJ_/DJANGO_ variables), the way a deployment starts.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from mjdash import env as envmod
from mjdash.checks import notify_hook_configured

ROOT = Path(__file__).resolve().parents[2]
KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "VIRTUAL_ENV")
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "settings-env-test-" + "k3y-" * 10,
    "DJANGO_ALLOWED_HOSTS": "mjdash.example.com",
    "MJ_API_BASE": "https://relay.example.com",
}
LOAD = "from django.conf import settings; settings.INSTALLED_APPS"


def load_settings(print_expr: str = "", **variables: str) -> subprocess.CompletedProcess:
    """Load mjdash.settings in a new process with only `variables` set (plus PATH and the like)."""
    environ = {name: os.environ[name] for name in KEEP if name in os.environ}
    environ["DJANGO_SETTINGS_MODULE"] = "mjdash.settings"
    environ.update(variables)
    code = LOAD + (f"; print(repr({print_expr}))" if print_expr else "")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def refusal(result: subprocess.CompletedProcess) -> str:
    """The ImproperlyConfigured message of a start-up that must have stopped."""
    assert result.returncode != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if "ImproperlyConfigured: " in line]
    assert lines, result.stderr
    return lines[-1].split("ImproperlyConfigured: ", 1)[1]


# ---- in a fresh process, as a deployment starts ---------------------------------------


def test_with_nothing_set_the_settings_load_with_their_usual_defaults():
    expr = (
        "(settings.DEBUG, settings.MJ_DEMO_MODE, settings.MJ_BATCH_SIZE, settings.MJ_READ_TIMEOUT, "
        "settings.MJ_PRESS_RATE, settings.MJ_PRESS_RATE_LIMIT, settings.MJ_NOTIFY_URL, settings.TIME_ZONE)"
    )
    result = load_settings(expr)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(True, True, 100, 20.0, '20/min', (20, 60), '', 'UTC')"


def test_a_debug_switch_that_is_neither_on_nor_off_is_refused():
    message = refusal(load_settings(DJANGO_DEBUG="maybe"))
    assert message.startswith("DJANGO_DEBUG must be one of 1/0, true/false, yes/no, on/off")
    assert "'maybe'" in message


def test_an_unparsable_integer_names_the_variable():
    assert refusal(load_settings(MJ_BATCH_SIZE="abc")) == "MJ_BATCH_SIZE must be an integer, got 'abc'"


def test_an_unparsable_float_names_the_variable():
    assert refusal(load_settings(MJ_CONNECT_TIMEOUT="3s")) == "MJ_CONNECT_TIMEOUT must be a number, got '3s'"


def test_a_negative_timeout_is_refused():
    assert refusal(load_settings(MJ_READ_TIMEOUT="-1")) == "MJ_READ_TIMEOUT must be greater than 0, got '-1'"


def test_a_batch_of_nothing_is_refused():
    assert refusal(load_settings(MJ_BATCH_SIZE="0")) == "MJ_BATCH_SIZE must be at least 1, got '0'"


def test_a_press_rate_in_an_unknown_unit_is_refused_not_read_as_per_minute():
    message = refusal(load_settings(MJ_PRESS_RATE="100/fortnight"))
    assert message.startswith("MJ_PRESS_RATE must be '<count>/<unit>'")
    assert "'100/fortnight'" in message


def test_a_press_rate_per_day_parses_to_a_day_in_seconds():
    result = load_settings("(settings.MJ_PRESS_RATE, settings.MJ_PRESS_RATE_LIMIT)", MJ_PRESS_RATE="100/day")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('100/day', (100, 86400))"


@pytest.mark.parametrize(
    ("present", "missing"), [("MJ_NOTIFY_TOKEN", "MJ_NOTIFY_URL"), ("MJ_NOTIFY_URL", "MJ_NOTIFY_TOKEN")]
)
def test_half_a_notify_hook_stops_a_production_start(present, missing):
    value = {"MJ_NOTIFY_TOKEN": "hook-secret-123", "MJ_NOTIFY_URL": "https://mjdash.example.com"}[present]
    message = refusal(load_settings(**PRODUCTION, **{present: value}))
    assert message.startswith(f"{present} is set without {missing}")
    assert "hook-secret-123" not in message


def test_a_whole_notify_hook_starts_in_production():
    result = load_settings(
        "settings.MJ_NOTIFY_URL",
        **PRODUCTION,
        MJ_NOTIFY_TOKEN="hook-secret-123",
        MJ_NOTIFY_URL="https://mjdash.example.com/",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "'https://mjdash.example.com'"


def test_half_a_notify_hook_still_starts_under_debug():
    result = load_settings("settings.MJ_NOTIFY_TOKEN", MJ_NOTIFY_TOKEN="hook-secret-123")
    assert result.returncode == 0, result.stderr


def test_a_notify_url_that_is_not_http_is_refused():
    message = refusal(load_settings(MJ_NOTIFY_URL="ftp://mjdash.example.com"))
    assert message.startswith("MJ_NOTIFY_URL must be an http(s) URL")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MJ_API_BASE", "relay.example.com", "MJ_API_BASE must be an http(s) URL"),
        ("MJ_RETRIES", "-1", "MJ_RETRIES must be at least 0"),
        ("MJ_CONCURRENCY", "0", "MJ_CONCURRENCY must be at least 1"),
        ("MJ_IMAGE_TIMEOUT", "inf", "MJ_IMAGE_TIMEOUT must be a finite number"),
        ("MJ_POLL_MAX_INTERVAL", "1", "MJ_POLL_MAX_INTERVAL must be at least MJ_POLL_INTERVAL"),
        ("MJ_IMAGE_ALLOWED_NETWORKS", "10.0.0.0/8,cdn", "MJ_IMAGE_ALLOWED_NETWORKS must be"),
        ("MJ_TRUSTED_PROXIES", "10.0.0.2,proxy.internal", "MJ_TRUSTED_PROXIES must be"),
        ("MJ_TRUSTED_PROXIES", "10.0.0.5/24", "MJ_TRUSTED_PROXIES must be"),  # host bits: ambiguous
        ("MJ_LOGIN_ADDRESS_FAILURE_LIMIT", "0", "MJ_LOGIN_ADDRESS_FAILURE_LIMIT must be at least 1"),
        ("MJ_IMAGE_ALLOW_LOOPBACK", "sometimes", "MJ_IMAGE_ALLOW_LOOPBACK must be one of"),
        ("MJ_NOTIFY_TOKEN", "a/b", "MJ_NOTIFY_TOKEN must not contain '/'"),
        ("DJANGO_LOG_LEVEL", "loud", "DJANGO_LOG_LEVEL must be one of"),
        ("DJANGO_LOG_FORMAT", "xml", "DJANGO_LOG_FORMAT must be one of plain, json"),
        ("DJANGO_TIME_ZONE", "Mars/Olympus", "DJANGO_TIME_ZONE must be an IANA time zone"),
        ("DJANGO_HSTS_SECONDS", "-5", "DJANGO_HSTS_SECONDS must be at least 0"),
        ("DJANGO_REFERRER_POLICY", "sometimes", "DJANGO_REFERRER_POLICY must be one or more of"),
        ("DJANGO_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto,https", "DJANGO_SECURE_PROXY_SSL_HEADER must"),
        ("MJ_CSP_IMG_SRC", "cdn.example.com; script-src *", "MJ_CSP_IMG_SRC must be"),
        ("MJ_MEDIA_BUCKET", "My_Bucket", "MJ_MEDIA_BUCKET must be an S3 bucket name"),
        ("MJ_MEDIA_BUCKET", "ab", "MJ_MEDIA_BUCKET must be an S3 bucket name"),
        ("MJ_MEDIA_ENDPOINT_URL", "minio:9000", "MJ_MEDIA_ENDPOINT_URL must be an http(s) URL"),
    ],
)
def test_each_nonsense_value_is_refused_naming_its_variable(variable, value, expected):
    assert refusal(load_settings(**{variable: value})).startswith(expected)


# ---- archived images in a bucket -------------------------------------------------------

BUCKET = {
    "MJ_MEDIA_BUCKET": "mjdash-media",
    "MJ_MEDIA_ENDPOINT_URL": "http://127.0.0.1:9000/",
    "MJ_MEDIA_REGION": "eu-west-1",
    "MJ_MEDIA_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "MJ_MEDIA_SECRET_ACCESS_KEY": "bucket-secret-123",
}


def test_a_bucket_chosen_by_variables_alone_becomes_the_default_storage():
    expr = (
        "(lambda o: (settings.STORAGES['default']['BACKEND'], o['bucket_name'], o['endpoint_url'], "
        "o['region_name'], o['access_key'], o['location'], o['querystring_expire'], o['default_acl'], "
        "o['client_config'].read_timeout, o['client_config'].retries, "
        "o['transfer_config'].multipart_threshold > settings.MJ_IMAGE_MAX_BYTES, settings.MJ_MEDIA_SERVE))"
        "(settings.STORAGES['default']['OPTIONS'])"
    )
    result = load_settings(
        expr, **BUCKET, MJ_MEDIA_PREFIX="/mjdash/prod/", MJ_MEDIA_URL_SECONDS="120", MJ_MEDIA_TIMEOUT="7"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(
        (
            "storages.backends.s3.S3Storage",
            "mjdash-media",
            "http://127.0.0.1:9000",
            "eu-west-1",
            "AKIDEXAMPLE",
            "mjdash/prod",
            120,
            None,
            7.0,
            {"max_attempts": 3, "mode": "standard"},
            True,
            "redirect",
        )
    )


@pytest.mark.parametrize(
    ("variables", "origin"),
    [
        ({}, "http://127.0.0.1:9000"),  # path style on a self-hosted endpoint
        (
            {
                "MJ_MEDIA_ENDPOINT_URL": "https://oss-cn-hangzhou.aliyuncs.com",
                "MJ_MEDIA_ADDRESSING_STYLE": "virtual",
            },
            "https://mjdash-media.oss-cn-hangzhou.aliyuncs.com",
        ),
        ({"MJ_MEDIA_SERVE": "stream"}, None),  # the app sends the bytes: the page never leaves the site
    ],
)
def test_the_pages_policy_lets_images_follow_their_redirect_to_the_bucket(variables, origin):
    result = load_settings(
        "[str(source) for source in settings.MJ_CSP_POLICY['img-src']]",
        **{**PRODUCTION, **BUCKET, **variables},
    )
    assert result.returncode == 0, result.stderr
    sources = ast.literal_eval(result.stdout.strip())
    bucket_sources = [source for source in sources if source not in ("'self'", "data:")]
    assert bucket_sources == ([origin] if origin else [])


def test_without_a_bucket_archived_images_stay_on_the_file_system():
    result = load_settings("settings.STORAGES['default']['BACKEND']")
    assert result.stdout.strip() == "'django.core.files.storage.FileSystemStorage'"


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"MJ_MEDIA_PREFIX": "media/../../etc"}, "MJ_MEDIA_PREFIX must be a key prefix"),
        ({"MJ_MEDIA_PREFIX": "a b"}, "MJ_MEDIA_PREFIX must be a key prefix"),
        ({"MJ_MEDIA_SERVE": "proxy"}, "MJ_MEDIA_SERVE must be one of redirect, stream, got 'proxy'"),
        ({"MJ_MEDIA_URL_SECONDS": "5"}, "MJ_MEDIA_URL_SECONDS must be at least 10, got '5'"),
        ({"MJ_MEDIA_URL_SECONDS": "604801"}, "MJ_MEDIA_URL_SECONDS must be at most 604800"),
        ({"MJ_MEDIA_TIMEOUT": "0"}, "MJ_MEDIA_TIMEOUT must be greater than 0"),
        ({"MJ_MEDIA_DEADLINE": "soon"}, "MJ_MEDIA_DEADLINE must be a number"),
        ({"MJ_MEDIA_DEADLINE": "0"}, "MJ_MEDIA_DEADLINE must be greater than 0"),
        ({"MJ_MEDIA_REGION": "EU West"}, "MJ_MEDIA_REGION must be a region"),
        (
            {"MJ_MEDIA_SECRET_ACCESS_KEY": ""},
            "MJ_MEDIA_ACCESS_KEY_ID is set without MJ_MEDIA_SECRET_ACCESS_KEY",
        ),
        ({"MJ_MEDIA_BUCKET": ""}, "MJ_MEDIA_ENDPOINT_URL is set without MJ_MEDIA_BUCKET"),
    ],
)
def test_a_bucket_setting_that_makes_no_sense_stops_start_up(variables, expected):
    result = load_settings(**{**BUCKET, **variables})
    assert refusal(result).startswith(expected)
    assert "bucket-secret-123" not in result.stderr


def test_a_serving_choice_without_a_bucket_is_refused_not_ignored():
    message = refusal(load_settings(MJ_MEDIA_SERVE="stream"))
    assert message == "MJ_MEDIA_SERVE is set without MJ_MEDIA_BUCKET: it applies to a bucket only."


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DATABASE_URL", "nosuchdb://u:hunter2@db/mjdash"), ("REDIS_URL", "http://u:hunter2@cache:6379/0")],
)
def test_a_service_url_in_the_wrong_shape_is_refused_without_showing_its_password(variable, value):
    result = load_settings(**{variable: value})
    assert refusal(result).startswith(f"{variable} must be a")
    assert "hunter2" not in result.stderr


# ---- the readers themselves ------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("1", True), ("YES", True), (" On ", True), ("off", False)])
def test_a_switch_reads_the_usual_words_in_any_case(monkeypatch, text, expected):
    monkeypatch.setenv("MJ_TEST_SWITCH", text)
    assert envmod.envbool("MJ_TEST_SWITCH", not expected) is expected


def test_a_blank_variable_means_the_default(monkeypatch):
    monkeypatch.setenv("MJ_TEST_BLANK", "  ")
    assert envmod.envbool("MJ_TEST_BLANK", True) is True
    assert envmod.envint("MJ_TEST_BLANK", 7, minimum=1) == 7
    assert envmod.envfloat("MJ_TEST_BLANK", 2.5) == 2.5
    assert envmod.env("MJ_TEST_BLANK", "fallback") == "fallback"
    assert envmod.envlist("MJ_TEST_BLANK", "a,b") == ["a", "b"]
    assert envmod.envrate("MJ_TEST_BLANK", "20/min") == ("20/min", (20, 60))


def test_an_unparsable_integer_is_improperly_configured_not_a_bare_value_error(monkeypatch):
    monkeypatch.setenv("MJ_TEST_INT", "12.5")
    with pytest.raises(ImproperlyConfigured, match=r"^MJ_TEST_INT must be an integer, got '12\.5'$"):
        envmod.envint("MJ_TEST_INT", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5/s", (5, 1)),
        ("5/secs", (5, 1)),
        ("20/min", (20, 60)),
        ("20 / Minutes", (20, 60)),
        ("3/h", (3, 3600)),
        ("3/hours", (3, 3600)),
        ("100/d", (100, 86400)),
        ("100/days", (100, 86400)),
    ],
)
def test_a_rate_reads_every_unit_and_its_plural(text, expected):
    assert envmod.parse_rate("MJ_PRESS_RATE", text) == expected


@pytest.mark.parametrize("text", ["100/fortnight", "100/ms", "100", "/min", "many/min", "0/min", "-3/hour"])
def test_a_rate_that_makes_no_sense_is_refused(text):
    with pytest.raises(ImproperlyConfigured, match=r"^MJ_PRESS_RATE must "):
        envmod.parse_rate("MJ_PRESS_RATE", text)


def test_a_url_loses_its_trailing_slash(monkeypatch):
    monkeypatch.setenv("MJ_TEST_URL", " https://relay.example.com/mj-fast/ ")
    assert envmod.envurl("MJ_TEST_URL") == "https://relay.example.com/mj-fast"


def test_missing_partner_names_what_is_set_and_what_is_not():
    assert envmod.missing_partner(A="x", B="") == "A is set without B"
    assert envmod.missing_partner(A="", B="y") == "B is set without A"
    assert envmod.missing_partner(A="x", B="y") == ""
    assert envmod.missing_partner(A="", B="") == ""


# ---- the system check under DEBUG ---------------------------------------------------------


def test_half_a_notify_hook_is_a_system_check_warning_under_debug(settings):
    settings.MJ_NOTIFY_TOKEN, settings.MJ_NOTIFY_URL = "hook-secret-123", ""
    [warning] = notify_hook_configured()
    assert warning.id == "mjdash.W001"
    assert warning.level == checks.WARNING
    assert "MJ_NOTIFY_TOKEN is set without MJ_NOTIFY_URL" in warning.msg
    assert notify_hook_configured in checks.registry.registry.get_checks()


def test_a_whole_or_absent_notify_hook_passes_the_check(settings):
    settings.MJ_NOTIFY_TOKEN, settings.MJ_NOTIFY_URL = "", ""
    assert notify_hook_configured() == []
    settings.MJ_NOTIFY_TOKEN, settings.MJ_NOTIFY_URL = "hook-secret-123", "https://mjdash.example.com"
    assert notify_hook_configured() == []
