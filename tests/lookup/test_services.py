"""The cache: final tasks are not asked again, nothing moves backwards."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tasks_app import services
from tasks_app.models import Task
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db


def test_a_second_lookup_of_final_tasks_makes_no_upstream_call(simulator):
    ids = [simulator.add_task(run=1.0, queued=0.0) for _ in range(3)]
    simulator.clock.advance(120)
    first = services.task_lookup(ids=ids)
    assert [t.status for t in first.tasks] == ["SUCCESS"] * 3
    simulator.reset_counters()

    second = services.task_lookup(ids=ids)

    assert simulator.calls["list"] == 0
    assert [t.id for t in second.tasks] == ids


def test_an_unfinished_task_is_asked_again(simulator):
    task_id = simulator.add_task(queued=0.0, run=100.0)
    simulator.clock.advance(10)
    first = services.task_lookup(ids=[task_id]).tasks[0]
    simulator.clock.advance(40)
    simulator.reset_counters()

    second = services.task_lookup(ids=[task_id]).tasks[0]

    assert simulator.calls["list"] == 1
    assert first.status == second.status == "IN_PROGRESS"
    assert second.progress > first.progress


def test_only_the_unfinished_ids_are_sent(simulator):
    done = simulator.add_task(run=1.0, queued=0.0)
    simulator.clock.advance(60)
    services.task_lookup(ids=[done])
    running = simulator.add_task(run=500.0)
    simulator.reset_counters()

    services.task_lookup(ids=[done, running])

    assert simulator.list_batches == [[running]]


def test_a_stale_answer_never_downgrades_a_terminal_task():
    services.task_store(
        records=[
            TaskRecord(
                id="1743000000000009", status="SUCCESS", progress=100, image_url="https://cdn.example/a.png"
            )
        ]
    )
    changed = services.task_store(
        records=[TaskRecord(id="1743000000000009", status="IN_PROGRESS", progress=40)]
    )

    task = Task.objects.get(id="1743000000000009")
    assert (task.status, task.progress, task.image_url) == ("SUCCESS", 100, "https://cdn.example/a.png")
    assert changed == []


def test_a_stale_answer_never_moves_a_running_task_back():
    services.task_store(records=[TaskRecord(id="1743000000000010", status="IN_PROGRESS", progress=50)])
    services.task_store(records=[TaskRecord(id="1743000000000010", status="SUBMITTED", progress=0)])
    assert Task.objects.get(id="1743000000000010").status == "IN_PROGRESS"


def test_an_empty_image_url_does_not_erase_a_kept_one():
    services.task_store(
        records=[TaskRecord(id="1743000000000011", status="IN_PROGRESS", image_url="https://x/1.png")]
    )
    services.task_store(records=[TaskRecord(id="1743000000000011", status="SUCCESS", image_url="")])
    task = Task.objects.get(id="1743000000000011")
    assert (task.status, task.image_url) == ("SUCCESS", "https://x/1.png")


def test_ids_the_upstream_does_not_know_are_reported(simulator):
    known = simulator.add_task()
    lookup = services.task_lookup(ids=[known, "1000000000000001", "1000000000000002"])
    assert [t.id for t in lookup.tasks] == [known]
    assert lookup.not_found == ["1000000000000001", "1000000000000002"]


def test_the_whole_payload_is_kept_as_received(simulator):
    simulator.put_raw({"id": "1743000000000012", "status": "SUCCESS", "mystery": [1, 2, 3]})
    task = services.task_lookup(ids=["1743000000000012"]).tasks[0]
    assert task.payload["mystery"] == [1, 2, 3]
    assert task.first_seen and task.last_fetched


def test_an_upstream_failure_keeps_the_cache_and_reports_the_error(simulator):
    task_id = simulator.add_task(run=500.0)
    services.task_lookup(ids=[task_id])
    simulator.set_fault("500", times=10)

    lookup = services.task_lookup(ids=[task_id])

    assert lookup.error is not None
    assert [t.id for t in lookup.tasks] == [task_id]
    assert lookup.not_found == []
    assert lookup.oldest_fetch is not None


def test_a_late_answer_of_the_same_run_never_lowers_progress():
    services.task_store(records=[TaskRecord(id="1743000000000020", status="IN_PROGRESS", progress=80)])
    services.task_store(records=[TaskRecord(id="1743000000000020", status="IN_PROGRESS", progress=40)])
    assert Task.objects.get(id="1743000000000020").progress == 80


def test_an_answer_without_a_status_keeps_the_known_one():
    services.task_store(records=[TaskRecord(id="1743000000000021", status="SUBMITTED")])
    services.task_store(records=[TaskRecord(id="1743000000000021", status="", progress=5)])
    assert Task.objects.get(id="1743000000000021").status == "SUBMITTED"


def test_a_degraded_refetch_of_a_final_task_keeps_its_details():
    full = TaskRecord(
        id="1743000000000022",
        status="FAILURE",
        fail_reason="Banned prompt",
        prompt_en="pig",
        properties={"finalPrompt": "pig"},
        finish_time=timezone.now(),
    )
    services.task_store(records=[full])
    services.task_store(records=[TaskRecord(id="1743000000000022", status="FAILURE")])
    task = Task.objects.get(id="1743000000000022")
    assert (task.fail_reason, task.prompt_en, task.properties) == (
        "Banned prompt",
        "pig",
        {"finalPrompt": "pig"},
    )
    assert task.finish_time is not None


def test_the_freshness_claim_lasts_while_the_relay_is_slow(simulator, settings):
    settings.MJ_FRESHNESS_SECONDS = 2
    task_id = simulator.add_task(run=900.0)
    services.task_lookup(ids=[task_id])
    Task.objects.filter(id=task_id).update(last_fetched=timezone.now() - timedelta(seconds=5))
    task = Task.objects.get(id=task_id)
    assert services._claim_all([task]) == [task]  # a slow call in flight holds it...
    assert services._claim_all([task]) == []  # ...so no one else asks meanwhile
    services._release([task])
    assert services._claim_all([task]) == []  # and afterwards for one window
