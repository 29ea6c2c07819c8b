"""The relay simulator over real HTTP: states under the clock, auth, faults, images."""

import io
import subprocess
import sys
import time

import pytest
import requests
from PIL import Image

from tasks_app.simulator import Simulator
from tests.simulator import AUTH, KEY


def list_tasks(sim, ids, **kwargs):
    kwargs.setdefault("timeout", 5)
    return requests.post(
        f"{sim.base_url}/mj/task/list-by-condition", json={"ids": ids}, headers=AUTH, **kwargs
    )


def fetch(sim, task_id):
    response = requests.get(f"{sim.base_url}/mj/task/{task_id}/fetch", headers=AUTH, timeout=5)
    assert response.status_code == 200
    return response.json()


def submit(sim, route, body):
    response = requests.post(f"{sim.base_url}/mj/submit/{route}", json=body, headers=AUTH, timeout=5)
    assert response.status_code == 200
    return response.json()


def png(url):
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert int(response.headers["Content-Length"]) == len(response.content)
    return response.content, Image.open(io.BytesIO(response.content))


# ---- states under the clock ---------------------------------------------------


def test_a_task_goes_from_not_start_through_submitted_and_progress_to_success(sim):
    task_id = sim.add_task(prompt="a pig", queued=10, run=50)
    assert len(task_id) == 16 and task_id.isdigit()
    first = fetch(sim, task_id)
    assert (first["status"], first["progress"], first["startTime"]) == ("NOT_START", "0%", 0)
    assert first["submitTime"] == int(sim.clock.now() * 1000)

    sim.clock.advance(2)
    assert fetch(sim, task_id)["status"] == "SUBMITTED"
    sim.clock.advance(9)
    running = fetch(sim, task_id)
    assert (running["status"], running["progress"]) == ("IN_PROGRESS", "0%")
    assert running["startTime"] > 0 and running["finishTime"] == 0
    sim.clock.advance(25)
    assert fetch(sim, task_id)["progress"] == "49%"
    assert fetch(sim, task_id)["buttons"] == []

    sim.clock.advance(30)
    done = fetch(sim, task_id)
    assert (done["status"], done["progress"]) == ("SUCCESS", "100%")
    assert done["finishTime"] - done["startTime"] == 50_000
    assert [b["label"] or b["emoji"] for b in done["buttons"]] == [
        *("U1", "U2", "U3", "U4", "🔄", "V1", "V2", "V3", "V4")
    ]
    assert done["buttons"][0]["customId"] == f"MJ::JOB::upsample::1::{done['properties']['messageHash']}"
    assert done["imageUrl"].startswith(f"{sim.base_url}/attachments/{task_id}/")
    assert len(done["imageUrls"]) == 4
    assert done["properties"]["finalPrompt"] == "a pig"
    assert done["botType"] == "MID_JOURNEY" and done["description"] == "Submit success"


def test_a_failing_task_ends_in_failure_with_its_reason(sim):
    task_id = sim.add_task(outcome="FAILURE", fail_reason="Banned prompt detected", run=5)
    sim.clock.advance(10)
    task = fetch(sim, task_id)
    assert (task["status"], task["failReason"], task["imageUrl"], task["buttons"]) == (
        "FAILURE",
        "Banned prompt detected",
        "",
        [],
    )


@pytest.mark.parametrize("status", ["CANCEL", "MODAL", "PAUSED"])
def test_a_pinned_status_holds_whatever_the_clock_says(sim, status):
    task_id = sim.add_task(status=status)
    sim.clock.advance(3600)
    assert fetch(sim, task_id)["status"] == status


def test_put_raw_payloads_come_back_verbatim(sim):
    odd = {"id": "42", "status": "", "progress": 100, "prompt": None, "buttons": None, "mystery": [1]}
    sim.put_raw(odd)
    assert fetch(sim, "42") == odd
    assert list_tasks(sim, ["42"]).json() == [odd]


def test_an_unknown_id_fetches_as_null(sim):
    assert fetch(sim, "1700000000000000") is None


# ---- auth ---------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"mj-api-secret": "nope"}])
def test_a_missing_or_wrong_key_is_refused_with_401_json(sim, headers):
    response = requests.post(
        f"{sim.base_url}/mj/task/list-by-condition", json={"ids": []}, headers=headers, timeout=5
    )
    assert response.status_code == 401
    assert response.json() == {"error": "invalid api key"}


def test_the_key_is_also_accepted_as_mj_api_secret(sim):
    response = requests.post(
        f"{sim.base_url}/mj/task/list-by-ids", json={"ids": []}, headers={"mj-api-secret": KEY}, timeout=5
    )
    assert response.status_code == 200 and response.json() == []


# ---- listing --------------------------------------------------------------------


def test_listing_returns_known_ids_only_and_records_each_batch(sim):
    known = [sim.add_task(prompt=f"cat {i}") for i in range(5)]
    response = list_tasks(sim, [*known, "999"])
    assert sorted(t["id"] for t in response.json()) == sorted(known)
    list_tasks(sim, known[:2])
    assert sim.list_batches == [[*known, "999"], known[:2]]
    assert sim.calls["list"] == 2
    sim.reset_counters()
    assert (sim.calls["list"], sim.list_batches) == (0, [])


def test_a_mode_prefix_before_mj_is_served_too(sim):
    response = requests.post(
        f"{sim.base_url}/mj-fast/mj/task/list-by-condition", json={"ids": []}, headers=AUTH, timeout=5
    )
    assert response.status_code == 200


@pytest.mark.parametrize("body", [b"not json", b'{"ids": "1,2"}', b"[1, 2]"])
def test_a_malformed_list_body_is_a_400_envelope(sim, body):
    response = requests.post(
        f"{sim.base_url}/mj/task/list-by-condition",
        data=body,
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["code"] == 4


# ---- faults -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [
        ("401", 401, "application/json"),
        ("403", 403, "text/plain"),
        ("429", 429, "application/json"),
        ("500", 500, "text/plain"),
        ("502html", 502, "text/html"),
        ("not_json", 200, "text/html"),
        ("object", 200, "application/json"),
    ],
)
def test_each_answer_fault_fires_once_then_service_resumes(sim, kind, status, content_type):
    task_id = sim.add_task()
    sim.set_fault(kind)
    failed = list_tasks(sim, [task_id])
    assert failed.status_code == status
    assert failed.headers["Content-Type"].startswith(content_type)
    if kind == "object":
        assert failed.json()["code"] == 4
    assert [t["id"] for t in list_tasks(sim, [task_id]).json()] == [task_id]
    assert sim.calls["list"] == 2


def test_a_rate_limit_fault_can_carry_retry_after(sim):
    sim.set_fault("429", retry_after=30)
    assert list_tasks(sim, []).headers["Retry-After"] == "30"


def test_a_timeout_fault_outlasts_the_client_read_timeout(sim):
    sim.set_fault("timeout")
    with pytest.raises(requests.exceptions.ReadTimeout):
        list_tasks(sim, [], timeout=0.3)


def test_partial_drops_half_and_duplicate_repeats_every_task(sim):
    ids = [sim.add_task() for _ in range(6)]
    sim.set_fault("partial")
    assert len(list_tasks(sim, ids).json()) == 3
    sim.set_fault("duplicate")
    doubled = [t["id"] for t in list_tasks(sim, ids).json()]
    assert sorted(doubled) == sorted(ids * 2)


def test_faults_only_hit_their_routes_and_count(sim):
    task_id = sim.add_task()
    sim.set_fault("500", times=2, routes=("fetch",))
    assert list_tasks(sim, [task_id]).status_code == 200
    url = f"{sim.base_url}/mj/task/{task_id}/fetch"
    assert [requests.get(url, headers=AUTH, timeout=5).status_code for _ in range(3)] == [500, 500, 200]
    sim.set_fault("500", times=3)
    sim.clear_faults()
    assert list_tasks(sim, [task_id]).status_code == 200


def test_latency_delays_every_api_answer(sim):
    sim.latency = 0.3
    started = time.monotonic()
    list_tasks(sim, [])
    assert time.monotonic() - started >= 0.3


# ---- images -------------------------------------------------------------------------


def test_a_grid_image_is_a_heavy_2048_png_and_each_quadrant_1024(sim):
    task_id = sim.add_task(run=1)
    sim.clock.advance(5)
    task = fetch(sim, task_id)
    data, image = png(task["imageUrl"])
    assert image.size == (2048, 2048) and len(data) > 1_000_000
    quadrant, image = png(task["imageUrls"][1]["url"])
    assert image.size == (1024, 1024) and len(quadrant) > 1_000_000
    assert png(task["imageUrl"])[0] == data  # deterministic, served from the cache
    assert sim.calls["image"] == 3


def test_an_image_url_expires_a_day_after_the_task_finished(sim):
    task_id = sim.add_task(run=1)
    sim.clock.advance(5)
    url = fetch(sim, task_id)["imageUrl"]
    sim.clock.advance(86400 - 10)
    assert requests.get(url, timeout=5).status_code == 200
    sim.clock.advance(20)
    gone = requests.get(url, timeout=5)
    assert gone.status_code == 404 and "no longer available" in gone.text


def test_a_tampered_image_url_is_refused(sim):
    task_id = sim.add_task(run=1)
    sim.clock.advance(5)
    url = fetch(sim, task_id)["imageUrl"]
    assert requests.get(url.replace("ex=", "ex=f"), timeout=5).status_code == 404


# ---- submitting -------------------------------------------------------------------------


def test_imagine_creates_a_task_and_refuses_empty_or_banned_prompts(sim):
    created = submit(sim, "imagine", {"prompt": "a red fox", "botType": "NIJI_JOURNEY", "state": "t1"})
    assert created["code"] == 1 and created["description"] == "Submit success"
    task = fetch(sim, created["result"])
    assert (task["prompt"], task["botType"], task["state"]) == ("a red fox", "NIJI_JOURNEY", "t1")
    assert sim.received[-1] == ("imagine", {"prompt": "a red fox", "botType": "NIJI_JOURNEY", "state": "t1"})
    assert submit(sim, "imagine", {"prompt": "  "})["code"] == 4
    banned = submit(sim, "imagine", {"prompt": "a banned thing"})
    assert banned["code"] == 24 and banned["properties"]["bannedWord"] == "banned"


def test_an_upscale_button_makes_a_child_that_looks_like_its_quadrant(sim):
    grid_id = sim.add_task(run=1)
    sim.clock.advance(5)
    grid = fetch(sim, grid_id)
    u2 = grid["buttons"][1]
    answer = submit(sim, "action", {"taskId": grid_id, "customId": u2["customId"]})
    assert answer["code"] == 1
    assert next(b for b in fetch(sim, grid_id)["buttons"] if b["label"] == "U2")["style"] == 3
    sim.clock.advance(sim.queued_seconds + sim.run_seconds + 2)
    child = fetch(sim, answer["result"])
    assert (child["action"], child["status"], child["customId"]) == ("UPSCALE", "SUCCESS", u2["customId"])
    labels = [b["label"] or b["emoji"] for b in child["buttons"]]
    assert labels[:5] == [
        "Upscale (Subtle)",
        "Upscale (Creative)",
        "Vary (Subtle)",
        "Vary (Strong)",
        "Vary (Region)",
    ]
    assert child["imageUrls"] == []
    data, image = png(child["imageUrl"])
    assert image.size == (1024, 1024)
    assert data == png(grid["imageUrls"][1]["url"])[0]


def test_an_unknown_button_or_parent_is_a_validation_error(sim):
    grid_id = sim.add_task(run=1)
    sim.clock.advance(5)
    assert submit(sim, "action", {"taskId": grid_id, "customId": "MJ::JOB::upsample::9::x"})["code"] == 4
    assert submit(sim, "action", {"taskId": "404", "customId": "MJ::JOB::upsample::1::x"})["code"] == 4


def test_vary_region_goes_through_modal_then_runs(sim):
    upscale_id = sim.add_task(action="UPSCALE", run=1)
    sim.clock.advance(5)
    region = next(b for b in fetch(sim, upscale_id)["buttons"] if b["label"] == "Vary (Region)")
    answer = submit(sim, "action", {"taskId": upscale_id, "customId": region["customId"]})
    assert answer["code"] == 21 and answer["properties"]["finalPrompt"] == "a pig"
    modal_id = answer["result"]
    assert fetch(sim, modal_id)["status"] == "MODAL"
    assert submit(sim, "modal", {"taskId": modal_id, "prompt": "a pig"})["code"] == 4  # mask missing
    body = {"taskId": modal_id, "prompt": "a pig wearing a hat", "maskBase64": "data:image/png;base64,AA=="}
    assert submit(sim, "modal", body) == {
        "code": 1,
        "description": "Submit success",
        "result": modal_id,
        "properties": {},
    }
    assert sim.received[-1] == ("modal", body)
    sim.clock.advance(sim.queued_seconds + sim.run_seconds + 2)
    done = fetch(sim, modal_id)
    assert (done["action"], done["status"], done["prompt"]) == ("INPAINT", "SUCCESS", "a pig wearing a hat")


def test_cancel_stops_a_running_task_but_not_a_finished_one(sim):
    running, finished = sim.add_task(run=100), sim.add_task(run=1)
    sim.clock.advance(10)
    cancel = requests.post(f"{sim.base_url}/mj/task/{running}/cancel", headers=AUTH, timeout=5).json()
    assert cancel["code"] == 1
    sim.clock.advance(500)
    assert fetch(sim, running)["status"] == "CANCEL"
    refused = requests.post(f"{sim.base_url}/mj/task/{finished}/cancel", headers=AUTH, timeout=5).json()
    assert refused["code"] == 4
    assert sim.calls["cancel"] == 2


# ---- seed and packaging ----------------------------------------------------------------------


def test_the_seed_has_a_task_in_every_state_and_progress_rises():
    sim = Simulator(api_key=KEY, seed=True, frozen_clock=True).start()
    try:
        tasks = {t["id"]: t for t in list_tasks(sim, list(Simulator.SAMPLE_IDS)).json()}
        assert set(tasks) == set(sim.sample_ids())
        statuses = {t["status"] for t in tasks.values()}
        assert statuses == {"SUCCESS", "IN_PROGRESS", "SUBMITTED", "NOT_START", "FAILURE", "CANCEL", "MODAL"}
        assert any("猫" in t["prompt"] for t in tasks.values())
        running_id = next(i for i, t in tasks.items() if t["status"] == "IN_PROGRESS")
        before = int(tasks[running_id]["progress"].rstrip("%"))
        sim.clock.advance(60)
        assert int(fetch(sim, running_id)["progress"].rstrip("%")) > before
    finally:
        sim.stop()


def test_the_simulator_imports_without_django():
    code = "import sys, tasks_app.simulator; assert 'django' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.timeout(20)
def test_more_than_a_thousand_tasks_at_one_frozen_instant_get_distinct_ids():
    sim = Simulator(frozen_clock=True)  # not started: IDs need no server
    ids = [sim.add_task() for _ in range(2500)]
    assert len(set(ids)) == 2500
    assert all(task_id.isdigit() for task_id in ids)
