"""`manage.py bench --quick`: every row is printed, and its counts are what the code guarantees.

One run of the real command (a subprocess: its own throw-away SQLite database,
the simulator on loopback, real gunicorn and worker processes). Times are
printed by the command and never asserted here.
"""

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BATCH = 10  # small, so that the quick sizes (10 and 25 IDs) take one and three batches


@pytest.fixture(scope="module")
def bench():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["MJ_BATCH_SIZE"] = str(BATCH)
    answer = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "bench", "--quick", "--latency", "0.01", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    *printed, last = answer.stdout.strip().splitlines()
    rows = defaultdict(list)
    for result in json.loads(last):
        rows[result["row"]].append(result)
    return "\n".join(printed), rows


pytestmark = pytest.mark.timeout(600)


def test_the_table_has_every_row(bench):
    printed, rows = bench
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7, 8]
    table_rows = {line.split("|")[0].strip() for line in printed.splitlines() if "|" in line}
    assert {str(n) for n in range(1, 9)} <= table_rows
    assert "machine:" in printed and "load average" in printed


def test_row_1_asks_once_per_batch_and_its_queries_do_not_grow_with_n(bench):
    _printed, rows = bench
    by_n = {r["n"]: r["counts"] for r in rows[1]}
    for n, counts in by_n.items():
        assert counts["calls"] == math.ceil(n / BATCH)
        assert counts["tasks"] == n
    small, large = by_n[min(by_n)], by_n[max(by_n)]
    assert small["batches"] == 1 < large["batches"]
    # A fixed number a batch (each is stored as it arrives); the first lookup
    # of the run also starts the follow chain (a lease, a tick).
    assert large["queries"] <= large["batches"] * small["queries"]
    assert small["queries"] <= 15


def test_row_2_asks_the_relay_nothing(bench):
    _printed, rows = bench
    for result in rows[2]:
        assert result["counts"]["calls"] == 0
        assert result["counts"]["queries"] == 2  # the tasks and their images


def test_row_3_relay_calls_do_not_depend_on_the_number_of_viewers(bench):
    _printed, rows = bench
    calls = {r["counts"]["viewers"]: r["counts"]["calls"] for r in rows[3]}
    assert len(calls) >= 2
    # Pollers never ask the relay (a worker's follow tick does, lookups.py): the count
    # is the same whoever looks, and never more than one a window.
    assert len(set(calls.values())) == 1
    assert max(calls.values()) <= rows[3][0]["counts"]["rounds"]
    # per window of the clock: each round sleeps a window after its polls, so spans at least one
    assert all(r["counts"]["windows"] >= r["counts"]["rounds"] for r in rows[3])
    for result in rows[3]:
        # A poll writes no task row: asking, and storing what is asked, is a worker's.
        assert result["counts"]["updates"] == result["counts"]["calls"]


def test_row_4_the_page_costs_the_same_queries_at_any_size(bench):
    _printed, rows = bench
    assert {r["counts"]["status"] for r in rows[4]} == {200}
    # a set's page shows its first MJ_SET_PAGE_CARDS cards; the rest come as one scrolls
    assert all(r["counts"]["cards"] == min(r["n"], settings.MJ_SET_PAGE_CARDS) for r in rows[4])
    assert len({r["counts"]["queries"] for r in rows[4]}) == 1
    # production's cards: every image archived, so every card shows its signed thumbnail
    assert all(r["counts"]["thumbs"] == r["counts"]["cards"] for r in rows[4])
    assert {r["counts"]["encoding"] for r in rows[4]} == {"gzip"}
    assert all(r["counts"]["wire_bytes"] * 3 < r["counts"]["bytes"] for r in rows[4])


def test_row_5_a_poll_with_nothing_changed_is_small(bench):
    _printed, rows = bench
    quiet, one = sorted(rows[5], key=lambda r: r["counts"]["changed"])
    assert quiet["counts"]["bytes"] < 1000
    assert one["counts"]["bytes"] > quiet["counts"]["bytes"]
    # A changed card also reads its stars and tags: at most two more queries for all
    # the changed cards at once (a quiet poll may read the lookup state they skip).
    assert one["counts"]["queries"] <= quiet["counts"]["queries"] + 2


def test_row_6_thumbnails_are_small_and_served(bench):
    _printed, rows = bench
    sizes = next(r["counts"] for r in rows[6] if "thumb_bytes" in r["counts"])
    assert sizes["thumb_bytes"] < 40 * 1024 < sizes["original_bytes"]
    served = next(r["counts"] for r in rows[6] if "thumb_status" in r["counts"])
    assert served == {"thumb_status": 200, "static_status": 200}


def test_row_7_the_streamed_export_sends_what_the_obvious_one_does(bench):
    _printed, rows = bench
    export = next(r for r in rows[7] if "export_bytes" in r["counts"])
    assert export["counts"]["export_bytes"] == export["counts"]["obvious_bytes"] > 0
    assert "x less" in export["ratio"] and float(export["ratio"].split("x")[0].split()[-1]) < 10_000


def test_row_8_every_image_is_downloaded_once(bench):
    _printed, rows = bench
    for result in rows[8]:
        counts, tasks = result["counts"], result["n"]
        assert counts["served"] == tasks
        assert counts["images_ok"] == counts["image_calls"] == 5 * tasks
