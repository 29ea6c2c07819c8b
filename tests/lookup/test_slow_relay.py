"""A relay that trickles, under the production profile: gunicorn with 4 threads, the
database queue and two real `manage.py worker`s. No page waits on the relay, /healthz
answers meanwhile, and each unseen ID has one relay call in flight however many
viewers ask (counted at the relay)."""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import prodserver
from tests.trickle import TrickleServer

pytestmark = pytest.mark.timeout(240)

A, B = "1765000000000001", "1765000000000002"
LOOKING_UP = 'class="card card-lookup"'


def _answer_for_ever() -> dict:
    """An answer whose 200 bytes come one a second: no relay call ends during the test."""
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    return {"fast": head, "slow": b"[" + b" " * 198 + b"]", "interval": 1.0}


def test_eight_viewers_of_unseen_ids_get_pages_while_the_relay_trickles(tmp_path):
    with TrickleServer(**_answer_for_ever()) as relay:
        env = prodserver.production_env(
            tmp_path, MJ_API_BASE=relay.url, MJ_API_KEY="sk-trickle", MJ_TASK_BACKEND="database"
        )
        prodserver.prepare(env)
        manage = [sys.executable, str(prodserver.ROOT / "manage.py")]
        worker = [*manage, "worker", "--interval", "0.1"]  # every queue
        workers = [subprocess.Popen(worker, cwd=prodserver.ROOT, env=env) for _ in range(2)]  # noqa: S603
        try:
            with prodserver.gunicorn(env, workers=1, threads=4) as base:
                sessions = [prodserver.login(base) for _ in range(8)]
                # Four viewers of A's page, four of a list of A and B, all at once.
                paths = [f"/tasks/{A}/"] * 4 + [f"/tasks/?ids={A},{B}"] * 4
                with ThreadPoolExecutor(8) as pool:
                    started = time.monotonic()
                    pages = [
                        pool.submit(session.get, base + path, timeout=20)
                        for session, path in zip(sessions, paths, strict=True)
                    ]
                    while not relay.bodies and time.monotonic() - started < 20:
                        time.sleep(0.01)  # until a worker has asked the relay
                    health = requests.get(f"{base}/healthz", timeout=20)
                    relay_calls_ended_before_health = len(relay.bodies) - len(relay.in_flight)
                    pages = [page.result() for page in pages]
                print(f"healthz {health.elapsed.total_seconds():.2f} s; pages", end=" ")
                print(", ".join(f"{page.elapsed.total_seconds():.2f}" for page in pages), "s")

                for page in pages:  # an answer while the relay had answered nothing
                    assert page.status_code == 200
                    assert LOOKING_UP in page.text or "Looking up this task" in page.text
                assert health.text == "ok" and relay_calls_ended_before_health == 0

                poll = sessions[0].post(
                    f"{base}/tasks/poll",
                    data={"ids": f"{A}:,{B}:"},
                    headers={"X-CSRFToken": sessions[0].cookies["csrftoken"]},
                    timeout=20,
                )
                assert poll.status_code == 200  # still looking: it asks again later
                assert relay.in_flight and len(relay.in_flight) == len(relay.bodies)  # none ended yet
        finally:
            for process in workers:
                process.kill()  # a worker ends its job first, and these jobs end with the relay's deadline
                process.wait(timeout=20)

    # Sixteen pages and a poll asked about A, eight about B: one call each, at once and in all.
    assert relay.most_at_once(A.encode()) == 1 and relay.most_at_once(B.encode()) == 1
    assert sum(A.encode() in body for body in relay.bodies) == 1
    assert sum(B.encode() in body for body in relay.bodies) == 1
