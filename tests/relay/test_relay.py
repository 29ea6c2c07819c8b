"""The relay client against the simulator over loopback: no mocks."""

import json
import math
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tasks_app import relay
from tasks_app.relay import BadAnswer, KeyRejected, RateLimited, UpstreamDown, normalise_task


def _ids(simulator, n):
    return [simulator.add_task(prompt=f"cat {i}", run=1.0) for i in range(n)]


@pytest.mark.parametrize(("n", "batch"), [(1, 100), (100, 100), (250, 100), (7, 3)])
def test_n_ids_cost_ceil_n_over_batch_calls(simulator, settings, n, batch):
    settings.MJ_BATCH_SIZE = batch
    ids = _ids(simulator, n)
    simulator.reset_counters()

    records = relay.list_by_condition(ids)

    assert simulator.calls["list"] == math.ceil(n / batch)
    assert all(len(b) <= batch for b in simulator.list_batches)
    assert sorted(r.id for r in records) == sorted(ids)


def test_unknown_ids_are_absent_and_duplicates_are_sent_once(simulator):
    known = _ids(simulator, 2)
    records = relay.list_by_condition([known[0], "9999999999999999", known[0], known[1]])
    assert sorted(r.id for r in records) == sorted(known)
    assert simulator.list_batches[-1].count(known[0]) == 1


def test_a_duplicated_answer_is_folded(simulator):
    ids = _ids(simulator, 3)
    simulator.set_fault("duplicate")
    assert sorted(r.id for r in relay.list_by_condition(ids)) == sorted(ids)


def test_the_api_key_is_sent_as_a_bearer_token(simulator, settings):
    settings.MJ_API_KEY = "not-the-key"
    with pytest.raises(KeyRejected):
        relay.list_by_condition(_ids(simulator, 1))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("401", KeyRejected),
        ("403", KeyRejected),
        ("429", RateLimited),
        ("500", UpstreamDown),
        ("502html", UpstreamDown),
        ("timeout", UpstreamDown),
        ("not_json", BadAnswer),
        ("object", BadAnswer),
    ],
)
def test_each_fault_becomes_its_typed_error(simulator, settings, fault, error):
    settings.MJ_RETRIES = 1
    ids = _ids(simulator, 2)
    simulator.set_fault(fault, times=5)
    with pytest.raises(error) as caught:
        relay.list_by_condition(ids)
    assert str(caught.value)  # a sentence a person can read
    assert settings.MJ_API_KEY not in str(caught.value)


def test_server_errors_are_retried_then_succeed(simulator, settings):
    settings.MJ_RETRIES = 2
    ids = _ids(simulator, 2)
    simulator.reset_counters()
    simulator.set_fault("500", times=2)
    assert len(relay.list_by_condition(ids)) == 2
    assert simulator.calls["list"] == 3


def test_retries_are_bounded(simulator, settings):
    settings.MJ_RETRIES = 2
    ids = _ids(simulator, 1)
    simulator.reset_counters()
    simulator.set_fault("500", times=10)
    with pytest.raises(UpstreamDown):
        relay.list_by_condition(ids)
    assert simulator.calls["list"] == 3


def test_a_short_retry_after_is_honoured_once(simulator, settings):
    ids = _ids(simulator, 1)
    simulator.reset_counters()
    simulator.set_fault("429", times=1, retry_after=0)
    assert len(relay.list_by_condition(ids)) == 1
    assert simulator.calls["list"] == 2


def test_a_long_retry_after_is_reported_not_waited(simulator, settings):
    ids = _ids(simulator, 1)
    simulator.set_fault("429", times=1, retry_after=120)
    with pytest.raises(RateLimited) as caught:
        relay.list_by_condition(ids)
    assert caught.value.retry_after == 120


def test_a_partial_answer_returns_what_exists(simulator):
    ids = _ids(simulator, 6)
    simulator.set_fault("partial")
    records = relay.list_by_condition(ids)
    assert 0 < len(records) < 6


def test_odd_payloads_degrade_fields_not_the_answer(simulator):
    simulator.put_raw(
        {
            "id": 1743000000000001,
            "status": "PAUSED",
            "action": None,
            "progress": 100,
            "prompt": None,
            "submitTime": "1730621826053",
            "finishTime": 0,
            "imageUrl": "",
            "buttons": None,
            "properties": "oops",
            "brandNewField": {"x": 1},
        }
    )
    simulator.put_raw(
        {"id": "1743000000000002", "progress": "", "startTime": None, "buttons": [{"label": "U1"}]}
    )
    records = {r.id: r for r in relay.list_by_condition(["1743000000000001", "1743000000000002"])}

    odd = records["1743000000000001"]
    assert odd.status == "PAUSED"
    assert odd.action == ""
    assert odd.progress == 100
    assert odd.prompt == ""
    assert odd.submit_time == datetime(2024, 11, 3, 8, 17, 6, 53000, tzinfo=UTC)
    assert odd.finish_time is None
    assert odd.buttons == ()
    assert odd.properties == {}
    assert odd.raw["brandNewField"] == {"x": 1}
    assert odd.is_final is False

    sparse = records["1743000000000002"]
    assert (sparse.progress, sparse.start_time, sparse.buttons) == (0, None, ())


@pytest.mark.parametrize(
    ("value", "expected"),
    [("45%", 45), ("100%", 100), (100, 100), ("", 0), (None, 0), ("abc", 0), ("150%", 100), (" 7 % ", 7)],
)
def test_progress_becomes_an_int_from_0_to_100(value, expected):
    assert normalise_task({"id": "1743000000000001", "progress": value}).progress == expected


def test_payloads_without_a_usable_id_are_skipped():
    assert normalise_task({"status": "SUCCESS"}) is None
    assert normalise_task(["not", "a", "task"]) is None
    assert normalise_task({"id": "x" * 65}) is None


def test_fetch_reads_one_task_and_none_for_unknown(simulator):
    task_id = _ids(simulator, 1)[0]
    assert relay.fetch(task_id).id == task_id
    assert relay.fetch("1111111111111111") is None


def test_submit_action_returns_the_envelope(simulator):
    parent = simulator.add_task(run=0.0)
    simulator.clock.advance(60)
    record = relay.list_by_condition([parent])[0]
    upscale = next(b for b in record.buttons if b.label == "U2")

    result = relay.submit_action(parent, upscale.custom_id)

    assert result.code == 1
    assert len(result.task_ids) == 1
    assert simulator.received[-1][1] == {"taskId": parent, "customId": upscale.custom_id}


def _pressable(simulator):
    parent = simulator.add_task(run=0.0)
    simulator.clock.advance(60)
    record = relay.list_by_condition([parent])[0]
    return parent, next(b for b in record.buttons if b.label == "U1").custom_id


@pytest.mark.parametrize("fault", ["500", "502html", "timeout", "reset"])
@pytest.mark.parametrize("route", ["action", "modal"])
def test_a_paid_submit_is_never_sent_twice_after_it_may_have_arrived(simulator, settings, fault, route):
    settings.MJ_RETRIES = 2
    parent, custom_id = _pressable(simulator)
    simulator.set_fault(fault, times=3, routes=(route,))
    with pytest.raises(UpstreamDown) as failed:
        if route == "action":
            relay.submit_action(parent, custom_id)
        else:
            relay.submit_modal(parent, prompt="a calmer sea")
    assert simulator.calls[route] == 1
    assert failed.value.maybe_sent  # so the press is reconciled, not failed and pressed again


def test_a_read_is_tried_again_after_the_same_failures(simulator, settings):
    """The neighbour: what a paid submit must not do, a free read does."""
    settings.MJ_RETRIES = 2
    parent = simulator.add_task(run=0.0)
    simulator.set_fault("reset", times=2, routes=("list",))
    assert [record.id for record in relay.list_by_condition([parent])] == [parent]
    assert simulator.calls["list"] == 3


def test_numbers_too_large_for_an_int_degrade_to_zero():
    record = normalise_task(
        {"id": "1743000000000001", "progress": float("inf"), "submitTime": 1e400, "finishTime": "1e999"}
    )
    assert (record.progress, record.submit_time, record.finish_time) == (0, None, None)


def test_an_overlong_id_in_a_submit_result_is_not_taken_for_a_task():
    result = relay.normalise_envelope({"code": 1, "result": f"1743000000000001,{'9' * 80}, 1743000000000002"})
    assert result.task_ids == ("1743000000000001", "1743000000000002")


def test_the_same_task_twice_in_one_answer_keeps_the_one_furthest_along(settings):
    """Relays answer from replicas: a stale copy next to a fresh one must not win."""
    body = json.dumps(
        [
            {"id": "1743000000000077", "status": "SUCCESS", "progress": "100%"},
            {"id": "1743000000000077", "status": "IN_PROGRESS", "progress": "40%"},
        ]
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.MJ_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        [record] = relay.list_by_condition(["1743000000000077"])
    finally:
        server.shutdown()
        server.server_close()
    assert (record.status, record.progress) == ("SUCCESS", 100)
