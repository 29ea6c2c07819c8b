"""A process killed (`kill -9`) in the middle of a lookup leaves nothing stuck:
the database holds what it held, the shared freshness claim lapses with its
lease, and the next lookup asks the relay and stores the answer."""

import math
import os
import signal
import time

from django.core.cache import cache

from tasks_app import jobs, relay, services
from tasks_app.models import Task
from tests.waiting import wait_until


def test_a_worker_killed_mid_lookup_leaves_the_cache_and_database_consistent(workers, simulator, settings):
    settings.MJ_FRESHNESS_SECONDS = 1.0  # lookups take the shared claim
    settings.MJ_READ_TIMEOUT = 2.5
    settings.MJ_RELAY_DEADLINE = 3.0
    task_id = simulator.add_task(prompt="a crash test", queued=0.0, run=100.0)
    simulator.clock.advance(10)
    services.task_lookup(ids=[task_id])
    before = Task.objects.get(pk=task_id)
    Task.objects.filter(pk=task_id).update(last_fetched=None)  # due again
    simulator.clock.advance(30)
    simulator.latency = 30.0  # the relay answers the worker's lookup far too late
    simulator.reset_counters()

    worker = workers.start(1).processes[0]
    jobs.follow_soon()
    wait_until(lambda: simulator.calls["list"] == 1, what="the worker's lookup", timeout=30.0, every=0.05)
    claimed_at = time.monotonic()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    simulator.latency = 0.0

    task = Task.objects.get(pk=task_id)
    assert (task.status, task.progress, task.payload) == (before.status, before.progress, before.payload)
    key = services._fresh_key(task_id)
    lease = math.ceil(relay.longest_call()) + 1
    if cache.get(key):  # a shared cache: the dead worker's claim holds, for its lease only
        held = services.task_lookup(ids=[task_id])
        assert simulator.calls["list"] == 1 and held.tasks[0].pk == task_id  # the copy, no 500
        wait_until(lambda: cache.get(key) is None, timeout=lease + 1, what="the claim to lapse", every=0.05)
        assert time.monotonic() - claimed_at <= lease + 0.5

    after = services.task_lookup(ids=[task_id])

    assert after.error is None and simulator.calls["list"] == 2
    task = Task.objects.get(pk=task_id)
    assert task.last_fetched is not None and task.progress > before.progress
    assert cache.get(key) is not None  # this lookup's own claim, released to the window
