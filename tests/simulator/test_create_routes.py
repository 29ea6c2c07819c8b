"""The simulator's routes that start jobs from nothing: imagine, blend, describe, shorten.

Each answers the relay's envelope, refuses what a relay refuses (an empty or
banned prompt, an image that is not one, the wrong number of images, a full
queue), and a finished DESCRIBE or SHORTEN carries its numbered prompts.
"""

import base64
import io

import pytest
import requests
from PIL import Image

from tasks_app.simulator.create import picked_prompt
from tests.simulator import AUTH


def submit(sim, route, body):
    response = requests.post(f"{sim.base_url}/mj/submit/{route}", json=body, headers=AUTH, timeout=5)
    assert response.status_code == 200
    return response.json()


def fetch(sim, task_id):
    return requests.get(f"{sim.base_url}/mj/task/{task_id}/fetch", headers=AUTH, timeout=5).json()


def data_url(color="red", fmt="PNG", mime="image/png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, fmt)
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


NOT_AN_IMAGE = "data:image/png;base64," + base64.b64encode(b"%PDF-1.7 not a picture").decode()
TEXT_TYPE = "data:text/plain;base64," + base64.b64encode(b"hello").decode()


def test_imagine_with_reference_images_runs_to_a_grid_whose_prompt_names_them(sim):
    answer = submit(sim, "imagine", {"prompt": "a fox", "base64Array": [data_url(), data_url("blue")]})
    assert answer["code"] == 1
    sim.clock.advance(60)
    task = fetch(sim, answer["result"])
    assert (task["action"], task["status"], task["prompt"]) == ("IMAGINE", "SUCCESS", "a fox")
    assert task["promptEn"].count("https://s.mj.run/") == 2 and task["promptEn"].endswith(" a fox")
    assert len(task["imageUrls"]) == 4 and task["buttons"]


@pytest.mark.parametrize(
    ("route", "body", "why"),
    [
        ("imagine", {"prompt": "a fox", "base64Array": [TEXT_TYPE]}, "not a data:image"),
        ("imagine", {"prompt": "a fox", "base64Array": [NOT_AN_IMAGE]}, "not a readable image"),
        ("imagine", {"prompt": "a fox", "base64Array": [data_url()] * 6}, "between 0 and 5"),
        ("imagine", {"prompt": " "}, "prompt must not be empty"),
        ("blend", {"base64Array": [data_url()]}, "between 2 and 5"),
        ("blend", {"base64Array": [data_url()] * 6}, "between 2 and 5"),
        ("blend", {"base64Array": [data_url(), NOT_AN_IMAGE]}, "image 2: base64 is not a readable image"),
        ("blend", {"base64Array": [data_url()] * 2, "dimensions": "ROUND"}, "dimensions must be"),
        ("describe", {}, "between 1 and 1"),
        ("describe", {"base64": TEXT_TYPE}, "not a data:image"),
        ("shorten", {"prompt": ""}, "prompt must not be empty"),
    ],
)
def test_what_a_relay_refuses_is_a_code_4_and_starts_nothing(sim, route, body, why):
    answer = submit(sim, route, body)
    assert answer["code"] == 4 and why in answer["description"]
    assert answer["result"] is None and sim.task_ids() == []


@pytest.mark.parametrize("route", ["imagine", "shorten"])
def test_a_banned_word_is_code_24_naming_the_word(sim, route):
    answer = submit(sim, route, {"prompt": "a Banned thing"})
    assert answer["code"] == 24 and answer["properties"]["bannedWord"] == "Banned"
    assert sim.task_ids() == []


def test_blend_of_two_to_five_images_makes_a_grid_in_the_asked_dimensions(sim):
    answer = submit(sim, "blend", {"base64Array": [data_url(), data_url("green")], "dimensions": "PORTRAIT"})
    sim.clock.advance(60)
    task = fetch(sim, answer["result"])
    assert (task["action"], task["status"]) == ("BLEND", "SUCCESS")
    assert task["promptEn"].endswith("--ar 2:3") and len(task["imageUrls"]) == 4


def test_describe_finishes_with_four_numbered_prompts_and_a_button_to_imagine_each(sim):
    answer = submit(sim, "describe", {"base64": data_url(fmt="JPEG", mime="image/jpeg")})
    before = fetch(sim, answer["result"])
    assert before["prompt"] == "" and before["buttons"] == []
    sim.clock.advance(60)
    task = fetch(sim, answer["result"])
    assert (task["action"], task["status"]) == ("DESCRIBE", "SUCCESS")
    prompts = [picked_prompt(task["prompt"], n) for n in range(1, 6)]
    assert all(prompts[:4]) and prompts[4] is None and task["prompt"].startswith("1️⃣ ")
    assert task["imageUrl"] and task["imageUrls"] == []  # the described picture, not a grid
    assert [b["customId"] for b in task["buttons"]] == [f"MJ::Job::PicReader::{n}" for n in range(1, 5)]

    child = requests.post(
        f"{sim.base_url}/mj/submit/action",
        json={"taskId": task["id"], "customId": "MJ::Job::PicReader::3"},
        headers=AUTH,
        timeout=5,
    ).json()
    assert child["code"] == 1 and fetch(sim, child["result"])["prompt"] == prompts[2]


def test_shorten_finishes_with_five_shorter_prompts_keeping_the_parameters(sim):
    prompt = "a very long prompt about a fox in the snow at dusk with soft light --ar 3:2"
    answer = submit(sim, "shorten", {"prompt": prompt})
    sim.clock.advance(60)
    task = fetch(sim, answer["result"])
    assert (task["action"], task["status"], task["prompt"], task["imageUrl"]) == (
        "SHORTEN",
        "SUCCESS",
        prompt,
        "",
    )
    shorter = [picked_prompt(task["properties"]["finalPrompt"], n) for n in range(1, 6)]
    assert all(s.endswith("--ar 3:2") and len(s) < len(prompt) for s in shorter)
    assert len(task["buttons"]) == 5


def test_a_full_queue_refuses_with_23_and_a_busy_one_queues_with_22(sim):
    sim.queue_capacity, sim.concurrent_jobs = 2, 1
    first = submit(sim, "imagine", {"prompt": "one"})
    second = submit(sim, "imagine", {"prompt": "two"})
    third = submit(sim, "imagine", {"prompt": "three"})
    assert (first["code"], second["code"], third["code"]) == (1, 22, 23)
    assert second["properties"]["numberOfQueues"] == 1 and third["result"] is None
    assert len(sim.task_ids()) == 2


def test_forced_codes_reach_every_create_route_once_each(sim):
    sim.force_code(23)
    sim.force_code(22)
    assert submit(sim, "describe", {"base64": data_url()})["code"] == 23
    queued = submit(sim, "blend", {"base64Array": [data_url()] * 2})
    assert queued["code"] == 22 and queued["result"]
    existing = submit(sim, "shorten", {"prompt": "a cat"})
    sim.force_code(21)
    again = submit(sim, "shorten", {"prompt": "a cat"})
    assert again["code"] == 21 and again["result"] == existing["result"]
    assert sim.calls["describe"] == 1 and sim.calls["shorten"] == 2
