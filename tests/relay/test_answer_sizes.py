"""Sizes are capped where they enter and where they are shown: a relay answer
is refused past MJ_RELAY_MAX_BYTES while it is read, and a page's size follows
its number of cards, not what a relay put in one task's texts."""

import pytest
from django.urls import reverse

from tasks_app import relay, services
from tasks_app.relay import BadAnswer
from tests.trickle import TrickleServer

MB = 1024 * 1024


def test_an_answer_longer_than_the_cap_is_refused_from_its_declared_length(simulator, settings):
    settings.MJ_RELAY_MAX_BYTES = 1 * MB
    settings.MJ_READ_TIMEOUT = 20.0  # the simulator encodes 25 MB before its first byte
    huge = simulator.add_task(prompt="x" * (25 * MB))
    small = simulator.add_task(prompt="x" * (MB // 8))  # the simulator repeats it in a few fields
    with pytest.raises(BadAnswer, match="answer too large"):
        relay.list_by_condition([huge])
    [record] = relay.list_by_condition([small])
    assert len(record.prompt) == MB // 8


def test_an_answer_that_does_not_say_its_length_is_refused_while_streaming(settings):
    """Chunked, no Content-Length: the client stops reading soon after the cap."""
    settings.MJ_RELAY_MAX_BYTES = 1 * MB
    settings.MJ_RETRIES = 0
    chunk = b"[" + b" " * (64 * 1024 - 1)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(400))  # 25 MB
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    with TrickleServer(fast=head + body) as server:
        settings.MJ_API_BASE = server.url
        with pytest.raises(BadAnswer, match="answer too large"):
            relay.list_by_condition(["1743326750223591"])


def _store_huge_tasks(n: int, size: int) -> list[str]:
    long_text = "a cat " * (size // 6)
    payloads = []
    for i in range(n):
        payload = {
            "id": f"17433267502235{i:02d}",
            "action": "IMAGINE",
            "status": "FAILURE" if i % 2 else "SUCCESS",
            "progress": "100%",
            "prompt": long_text,
            "description": long_text,
            "failReason": long_text if i % 2 else "",
            "finishTime": 1743326760000,
            "buttons": [
                {"customId": f"MJ::JOB::upsample::{n}::abc", "label": long_text, "emoji": long_text},
                {"customId": "MJ::JOB::variation::1::" + long_text, "label": "V1"},
            ],
        }
        payloads.append(payload)
    services.task_store(records=[relay.normalise_task(p) for p in payloads])
    return [p["id"] for p in payloads]


def test_ten_cards_with_a_megabyte_of_text_each_make_a_small_page_and_the_detail_page_has_it_all(logged_in):
    ids = _store_huge_tasks(10, MB)
    response = logged_in.get(reverse("task_list"), {"ids": ",".join(ids)})
    assert response.status_code == 200
    assert all(f'id="task-{task_id}"' in response.content.decode() for task_id in ids)
    assert len(response.content) < 200 * 1024

    detail = logged_in.get(reverse("task_detail", args=[ids[0]]))
    assert detail.status_code == 200
    assert ("a cat " * (MB // 6)).strip() in detail.content.decode()
