"""Rows 1-3: looking up IDs at the relay, cold and warm, and many viewers of one page."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app import relay, services
from tasks_app.bench import Result, ms, times

RUNNING_SHARE = 0.05


def new_tasks(sim, n: int, *, running: int = 0) -> list[str]:
    """n tasks the relay knows; all but `running` are final once the clock moves on."""
    ids = [sim.add_task(prompt=f"bench task {k}", run=10**7 if k < running else 1.0) for k in range(n)]
    sim.clock.advance(120)
    return ids


def floor(n: int, latency: float) -> float:
    """One round trip per wave of parallel batches: what no client can beat."""
    batches = math.ceil(n / max(1, settings.MJ_BATCH_SIZE))
    return math.ceil(batches / max(1, settings.MJ_CONCURRENCY)) * latency


def rows_1_2(sim, sizes: list[int], latency: float, *, sample: int) -> list[Result]:
    results = []
    for n in sizes:
        ids = new_tasks(sim, n)
        # The obvious way: one /fetch per ID, in sequence (timed on a sample).
        begin = time.perf_counter()
        for task_id in ids[:sample]:
            relay.fetch(task_id)
        per_id = (time.perf_counter() - begin) / min(sample, n)
        obvious = per_id * n
        best = floor(n, latency)
        sim.reset_counters()
        cold = _timed_lookup(ids)
        cold_calls = sim.calls["list"]
        sim.reset_counters()
        warm = _timed_lookup(ids)
        warm_calls = sim.calls["list"]
        batches = math.ceil(n / max(1, settings.MJ_BATCH_SIZE))
        results.append(
            Result(
                1,
                "new IDs: lookup",
                n,
                f"{_times(cold)}, {cold_calls} calls, {cold['queries']} queries",
                f"{ms(obvious)} ({n} fetches)",
                f"floor {ms(best)}; goal <= 1.5x floor",
                f"{times(obvious, cold['seconds'])} faster; {times(cold['seconds'], best)} floor",
                {"calls": cold_calls, "batches": batches, "queries": cold["queries"], "tasks": cold["tasks"]},
            )
        )
        results.append(
            Result(
                2,
                "same IDs again (final)",
                n,
                f"{_times(warm)}, {warm_calls} calls, {warm['queries']} queries",
                f"{ms(obvious)} ({n} fetches)",
                "goal 0 calls, < 50 ms for 1000",
                f"{times(obvious, warm['seconds'])} faster",
                {"calls": warm_calls, "queries": warm["queries"], "tasks": warm["tasks"]},
            )
        )
    return results


def row_3(sim, sizes: list[int], viewers: list[int], *, rounds: int) -> list[Result]:
    """V viewers of a page of N cards, 5% running, each polling once per freshness
    window (more often than the page's poller does): relay calls per window."""
    results = []
    window = settings.MJ_FRESHNESS_SECONDS
    for n in sizes:
        running = max(1, round(n * RUNNING_SHARE))
        ids = new_tasks(sim, n, running=running)
        services.task_lookup(ids=ids)
        live = ids[:running]
        for v in viewers:
            time.sleep(window)  # every claim of the last run has run out
            sim.reset_counters()
            with CaptureQueriesContext(connection) as queries:
                begin = time.perf_counter()
                for _round in range(rounds):
                    for _viewer in range(v):
                        services.task_poll(seen=dict.fromkeys(live, ""))
                    time.sleep(window)
                # Per window of the clock, not per round: on a slow machine V polls
                # take longer than a window and a round spans more than one.
                windows = (time.perf_counter() - begin) / window
            calls = sim.calls["list"]
            writes = sum(1 for q in queries if q["sql"].startswith('UPDATE "tasks_app_task"'))
            obvious = v * running
            per_window = calls / windows
            results.append(
                Result(
                    3,
                    f"{v} viewers, {running} running",
                    n,
                    f"{per_window:.2f} calls/window ({calls} in {windows:.1f} windows), "
                    f"{writes / windows:.2f} task UPDATEs/window",
                    f"{obvious} calls/window",
                    "goal: independent of viewers",
                    f"{times(obvious, per_window)} fewer",
                    {
                        "calls": calls,
                        "rounds": rounds,
                        "windows": round(windows, 2),
                        "viewers": v,
                        "running": running,
                        "updates": writes,
                    },
                )
            )
    return results


def _times(timed: dict) -> str:
    return f"{ms(timed['seconds'])} ({ms(timed['cpu'])} CPU)"


def _timed_lookup(ids: list[str]) -> dict:
    with CaptureQueriesContext(connection) as queries:
        begin, cpu = time.perf_counter(), time.process_time()
        lookup = services.task_lookup(ids=ids)
        seconds, cpu = time.perf_counter() - begin, time.process_time() - cpu
    # CPU time too: on a shared machine it moves far less than the wall clock (it
    # includes the simulator's threads, which answer from this same process).
    return {"seconds": seconds, "cpu": cpu, "queries": len(queries), "tasks": len(lookup.tasks)}
