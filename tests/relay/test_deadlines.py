"""Whole-call deadlines against a real peer that trickles its answer over loopback.

A read timeout bounds one read; a peer sending a byte a second never trips it.
Each call must still end at its deadline, whatever part of the answer trickles.
"""

import time

import pytest

from tasks_app import relay
from tasks_app.images import fetch
from tasks_app.images.errors import ImageRefused
from tests.trickle import TrickleServer

DEADLINE = 2.0
MARGIN = 4.0  # generous: a busy CI machine; the bug held calls for minutes
TASK_ID = "1743326750223591"

# Each answer is whole and valid, so a client without a deadline would wait ~14 s and succeed.
RELAY_ANSWERS = {
    "body": dict(
        fast=b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n",
        slow=b"[            ]",
    ),
    "headers": dict(slow=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]"),
    "chunk sizes": dict(
        fast=b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        slow=b"000000000002\r\n[]\r\n0\r\n\r\n",
    ),
}


@pytest.fixture
def patient_relay(settings):
    """Timeouts longer than the gap between two bytes, retries on, a short whole-call deadline."""
    settings.MJ_RELAY_DEADLINE = DEADLINE
    settings.MJ_READ_TIMEOUT = 5.0
    settings.MJ_CONNECT_TIMEOUT = 5.0
    settings.MJ_RETRIES = 2
    settings.MJ_RETRY_BACKOFF = 0.01
    settings.MJ_API_KEY = "sk-test"
    return settings


@pytest.mark.parametrize("where", list(RELAY_ANSWERS))
def test_a_relay_that_trickles_its_answer_is_cut_at_the_deadline_with_no_retry(patient_relay, where):
    with TrickleServer(**RELAY_ANSWERS[where]) as server:
        patient_relay.MJ_API_BASE = server.url
        started = time.monotonic()
        with pytest.raises(relay.UpstreamDown, match="timed out"):
            relay.list_by_condition([TASK_ID])
        elapsed = time.monotonic() - started
        assert elapsed < DEADLINE + MARGIN
        assert server.connections == 1  # the deadline covers the retries too


def test_a_trickling_submit_ends_at_the_deadline(patient_relay):
    with TrickleServer(**RELAY_ANSWERS["body"]) as server:
        patient_relay.MJ_API_BASE = server.url
        started = time.monotonic()
        with pytest.raises(relay.UpstreamDown, match="timed out"):
            relay.submit_action(TASK_ID, "MJ::JOB::upsample::1::abc")
        assert time.monotonic() - started < DEADLINE + MARGIN


def test_the_longest_call_is_the_deadline_however_many_retries(patient_relay):
    patient_relay.MJ_RETRIES = 5
    assert relay.longest_call() <= DEADLINE + 1


@pytest.mark.parametrize(
    "answer",
    [
        dict(fast=b"HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n", slow=b"x" * 14),
        dict(slow=b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 2\r\n\r\nxx"),
    ],
    ids=["body", "headers"],
)
def test_an_image_host_that_trickles_is_cut_at_the_download_deadline(settings, answer):
    settings.MJ_IMAGE_TIMEOUT = DEADLINE
    settings.MJ_IMAGE_CONNECT_TIMEOUT = 5.0
    settings.MJ_IMAGE_ALLOW_LOOPBACK = True
    with TrickleServer(**answer) as server:
        started = time.monotonic()
        with pytest.raises(ImageRefused) as refused, fetch.download(f"{server.url}/a.png"):
            pass
        assert time.monotonic() - started < DEADLINE + MARGIN
    assert refused.value.code == "timeout"
