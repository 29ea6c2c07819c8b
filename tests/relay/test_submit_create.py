"""relay.submit_imagine / blend / describe / shorten: what they send, and their bounds.

Against the simulator on loopback: each sends the relay's body with the
caller's marker in `state`; a body over MJ_SUBMIT_MAX_BYTES is refused before
anything leaves; a submit that may have arrived is never sent twice; a
trickling answer ends at the whole-call deadline.
"""

import base64
import io
import time

import pytest
from PIL import Image

from tasks_app import relay
from tests.trickle import TrickleServer

pytestmark = pytest.mark.django_db


def data_url(size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


CALLS = {
    "imagine": lambda **kw: relay.submit_imagine("a fox --ar 3:2", images=[data_url()], **kw),
    "blend": lambda **kw: relay.submit_blend([data_url(), data_url()], dimensions="LANDSCAPE", **kw),
    "describe": lambda **kw: relay.submit_describe(data_url(), **kw),
    "shorten": lambda **kw: relay.submit_shorten("a fox in the snow at dusk", **kw),
}


@pytest.mark.parametrize("route", list(CALLS))
def test_each_submit_sends_the_relays_body_and_returns_the_new_task(simulator, route):
    answer = CALLS[route](state="mjdash-press-1-abc", notify_hook="https://dash.example/hooks/notify/t")

    assert answer.code == 1 and len(answer.task_ids) == 1
    [(sent_route, body)] = simulator.received
    assert sent_route == route
    assert body["state"] == "mjdash-press-1-abc"
    assert body["notifyHook"] == "https://dash.example/hooks/notify/t"
    simulator.clock.advance(60)
    [record] = relay.list_by_condition(list(answer.task_ids))
    assert (record.action, record.state) == (route.upper(), "mjdash-press-1-abc")


def test_the_relays_refusal_comes_back_as_its_envelope(simulator):
    banned = relay.submit_imagine("a banned word")
    assert (banned.code, banned.properties["bannedWord"], banned.task_ids) == (24, "banned", ())
    simulator.force_code(23)
    assert relay.submit_shorten("a cat").code == 23


def test_a_body_over_the_cap_is_refused_before_anything_is_sent(simulator, settings):
    image = data_url((400, 400))
    settings.MJ_SUBMIT_MAX_BYTES = len(image) * 2 + 200  # room for two images, not three

    with pytest.raises(relay.TooLargeToSend) as refused:
        relay.submit_blend([image, image, image])
    assert refused.value.maybe_sent is False
    assert sum(simulator.calls.values()) == 0
    assert relay.submit_blend([image, image]).code == 1  # under the cap: sent


@pytest.mark.parametrize("fault", ["500", "timeout"])
@pytest.mark.parametrize("route", list(CALLS))
def test_a_create_that_may_have_arrived_is_never_sent_again(simulator, settings, route, fault):
    settings.MJ_RETRIES = 2
    simulator.set_fault(fault, times=3, routes=(route,))
    with pytest.raises(relay.UpstreamDown) as failed:
        CALLS[route]()
    assert failed.value.maybe_sent is True
    assert simulator.calls[route] == 1


def test_a_trickling_create_answer_ends_at_the_whole_call_deadline(settings):
    settings.MJ_RELAY_DEADLINE, settings.MJ_READ_TIMEOUT, settings.MJ_RETRIES = 2.0, 5.0, 2
    fast = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n"
    with TrickleServer(fast=fast, slow=b"[            ]") as server:
        settings.MJ_API_BASE = server.url
        started = time.monotonic()
        with pytest.raises(relay.UpstreamDown, match="timed out"):
            relay.submit_imagine("a fox")
        assert time.monotonic() - started < 2.0 + 4.0
        assert server.connections == 1
