"""The short load run (bench/load.py): locust users against gunicorn in the
production profile, with the relay simulator and a job worker behind it. The
full run (50 users for 60 s) and its figures are in the closing note of issue 10."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.timeout(400),
    pytest.mark.skipif(not (ROOT / ".venv/bin/locust").exists(), reason="locust is not installed"),
]


def test_ten_users_for_twelve_seconds_see_no_error_and_the_relay_is_asked_within_the_window():
    from bench import load

    figures = load.run(users=10, seconds=12)

    assert figures["exit_code"] == 0, figures["locust_output"]  # --exit-code-on-error: no failure
    assert figures["failures"] == 0 and figures["server_errors"] == 0
    assert figures["requests"] >= 30
    assert all(figures["per_endpoint"][name]["requests"] for name in ("archive", "poll", "detail"))
    assert 0 < figures["max_asks_per_task"] <= figures["ask_bound_per_task"]
    assert figures["asked_finished"] == 0  # a finished task is never asked again
    assert figures["relay_submits"] == 0  # reading never bills
