"""Several app processes on one PostgreSQL and one Redis, as behind a load balancer.

Server A is started by the production command itself (scripts/prod: migrate,
collectstatic, check, gunicorn with two workers); server B is a second gunicorn
on another port. Both use the test database pytest-django made and the Redis of
this run, and point at one simulator in this process. Many logged-in pollers and
double presses spread over both must cost the relay one call per task per
freshness window and one submission per button, and lose or duplicate nothing.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import global_settings, settings
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils.module_loading import import_string

from tasks_app.models import Task
from tasks_app.simulator import Simulator
from tests import prodserver
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[2]
FRESHNESS = 1.0  # seconds, MJ_FRESHNESS_SECONDS of both servers
FOLLOW_TICK = 0.5  # seconds, MJ_FOLLOW_SECONDS: ticks twice a window, yet each task is asked once
POLLERS = 12  # threads, each with its own logged-in session
POLL_SECONDS = 4.0
PRESSES = 6  # concurrent presses of one button, split over both servers

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def services_or_skip():
    if connection.vendor != "postgresql":
        pytest.skip(
            "multi-process test needs PostgreSQL: set DATABASE_URL (scripts/test does, in its 2nd pass)"
        )
    if not settings.REDIS_URL:
        pytest.skip("multi-process test needs Redis: set REDIS_URL (scripts/test does, in its 2nd pass)")


@pytest.fixture
def sim():
    simulator = Simulator(api_key=API_KEY, frozen_clock=True).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def staff(django_user_model):
    """A staff login the servers accept through their real login form.

    The suite hashes with a fast test-only hasher (conftest) that the servers, running
    the project's own settings, do not know: this password is hashed with the project's.
    """
    user = django_user_model.objects.create_user("ops", is_staff=True)
    user.password = make_password("ops-pass-12345", hasher=_project_password_hasher())
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def servers(services_or_skip, sim, staff, tmp_path):
    """Two app servers (A: scripts/prod with 2 workers, B: gunicorn with 1) and two RQ
    workers, torn down after."""
    env = _server_env(sim, tmp_path)
    started: list[tuple[subprocess.Popen, Path]] = []
    try:
        a_port, b_port = prodserver.free_port(), prodserver.free_port()
        started.append(_spawn([str(ROOT / "scripts" / "prod")], env, a_port, tmp_path / "a.log", workers=2))
        _wait_ready(a_port, started[-1])
        gunicorn = [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "mjdash.wsgi:application",
            "--bind",
            f"127.0.0.1:{b_port}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--no-control-socket",
        ]
        started.append(_spawn(gunicorn, env, b_port, tmp_path / "b.log", workers=1))
        _wait_ready(b_port, started[-1])
        # Two background workers over Redis, as on more machines: they send the presses.
        for n in range(2):
            rqworker = [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "worker"]  # every queue
            started.append(_spawn(rqworker, env, 0, tmp_path / f"rq{n}.log", workers=0))
        yield [f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{b_port}"]
    finally:
        for proc, _log in started:
            prodserver.stop_group(proc)


def test_many_pollers_and_double_presses_over_two_processes(servers, sim, staff):
    running = [sim.add_task(prompt=f"running {i}", queued=0.0, run=3600.0) for i in range(6)]
    parents = [sim.add_task(prompt=f"finished {i}", queued=0.0, run=1.0, ago=600.0) for i in range(3)]
    everything = running + parents

    # The first look stores every task (one caller; unknown IDs are always asked).
    first = _login(servers[0])
    assert (
        first.get(f"{servers[0]}/tasks/", params={"ids": ",".join(everything)}, timeout=30).status_code == 200
    )
    assert Task.objects.filter(id__in=everything).count() == len(everything)

    # ---- pollers: each session logged in on one server, polling both in turn.
    sessions = [_login(servers[i % 2]) for i in range(POLLERS)]
    poll_ids = ",".join(f"{task_id}:x" for task_id in running)  # a stale stamp: every card comes back
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(POLLERS + 1)

    def poll(n: int, session: requests.Session):
        barrier.wait(timeout=30)
        deadline = time.monotonic() + POLL_SECONDS
        turn = n
        while time.monotonic() < deadline:
            base = servers[turn % 2]
            turn += 1
            if turn % 3:
                response = session.get(f"{base}/tasks/poll", params={"ids": poll_ids}, timeout=30)
            else:
                response = session.get(f"{base}/tasks/", params={"ids": ",".join(running)}, timeout=30)
            with lock:
                statuses[response.status_code] += 1
                missing = [t for t in running if f"task-{t}" not in response.text]
                if missing:
                    errors.append(f"{response.url} {response.status_code} lacks {missing}")

    threads = [threading.Thread(target=poll, args=(n, s)) for n, s in enumerate(sessions)]
    for thread in threads:
        thread.start()
    # The workers' follow ticks asked the relay all along (during the logins too):
    # count from here.
    sim.reset_counters()
    started = time.monotonic()
    barrier.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "a poller did not end within 60 s"

    requests_made = sum(statuses.values())
    per_task = Counter(task_id for batch in sim.list_batches for task_id in batch)
    windows = math.floor(elapsed / FRESHNESS) + 1
    print(
        f"\npollers: {requests_made} requests in {elapsed:.1f}s over 2 servers, statuses {dict(statuses)}; "
        f"relay list calls {sim.calls['list']}, per task {sorted(per_task.values())}, bound {windows}"
    )
    assert not errors, errors[:5]
    assert set(statuses) == {200}
    assert requests_made >= 4 * POLLERS
    # Pollers never ask the relay; the workers' follow ticks (every FOLLOW_TICK over
    # RQ, one chain for both hosts) ask each running task once a window, and never
    # a final one.
    assert set(per_task) == set(running)
    assert all(2 <= count <= windows for count in per_task.values()), per_task

    # ---- double presses: each button pressed PRESSES times at once, on both servers.
    presser = [_login(servers[i % 2], "ops", "ops-pass-12345") for i in range(PRESSES)]
    pairs = [(parent, custom_id) for parent in parents for custom_id in _buttons(parent, "U1", "V2")]
    sim.reset_counters()
    tasks_before = len(sim.task_ids())
    locations: dict[tuple[str, str], list[str]] = {}
    for parent, custom_id in pairs:
        answers: list[str] = []
        press_barrier = threading.Barrier(PRESSES)

        def press(i: int, parent=parent, custom_id=custom_id, answers=answers, press_barrier=press_barrier):
            session, base = presser[i], servers[i % 2]
            token = session.cookies.get("csrftoken")
            press_barrier.wait(timeout=30)
            response = session.post(
                f"{base}/tasks/{parent}/action",
                data={"custom_id": custom_id, "csrfmiddlewaretoken": token},
                allow_redirects=False,
                timeout=30,
            )
            with lock:
                answers.append(f"{response.status_code} {response.headers.get('Location', '')}")

        press_threads = [threading.Thread(target=press, args=(i,)) for i in range(PRESSES)]
        for thread in press_threads:
            thread.start()
        for thread in press_threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in press_threads), "a press did not end within 60 s"
        locations[(parent, custom_id)] = answers

    print(f"presses: {len(pairs)} buttons x {PRESSES}; relay action calls {sim.calls['action']}")
    assert sim.calls["action"] == len(pairs)
    assert len(sim.task_ids()) == tasks_before + len(pairs)
    children: set[str] = set()
    for pair, answers in locations.items():
        assert len(answers) == PRESSES, pair
        assert len(set(answers)) == 1, (pair, answers)  # everyone sees the same child
        found = re.fullmatch(r"302 /tasks/(\d+)/", answers[0])
        assert found, (pair, answers[0])
        children.add(found.group(1))
    assert len(children) == len(pairs)
    for parent in parents:
        assert Task.objects.filter(parent_id=parent).count() == 2
    assert set(Task.objects.filter(parent_id__in=parents).values_list("id", flat=True)) == children

    # ---- nothing lost: every task and child is shown by either server.
    all_ids = everything + sorted(children)
    for base in servers:
        page = first.get(f"{base}/tasks/", params={"ids": ",".join(all_ids)}, timeout=30)
        assert page.status_code == 200
        assert all(f"task-{task_id}" in page.text for task_id in all_ids)
    assert Task.objects.filter(id__in=all_ids).count() == len(all_ids)


# ---- helpers ---------------------------------------------------------------------


def _project_password_hasher():
    """The preferred hasher of the settings module the servers run (mjdash.settings), as is."""
    import mjdash.settings as project

    return import_string(getattr(project, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS)[0])()


def _buttons(parent: str, *labels: str) -> list[str]:
    task = Task.objects.get(pk=parent)
    by_label = {b.get("label"): b.get("customId") for b in task.buttons}
    return [by_label[label] for label in labels]


def _server_env(sim: Simulator, tmp_path: Path) -> dict[str, str]:
    db = connection.settings_dict
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = quote(db.get("USER") or "", safe="") + (f":{password}" if password else "")
    database_url = f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MJ_"))}
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "multiprocess-test-" + "s3cr3t-" * 8,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SSL_REDIRECT": "0",  # plain http on loopback
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "REDIS_URL": settings.REDIS_URL,
            "MJ_API_BASE": sim.base_url,
            "MJ_API_KEY": API_KEY,
            "MJ_FRESHNESS_SECONDS": str(FRESHNESS),
            "MJ_PRESS_RATE": "10000/min",
            "MJ_TASK_BACKEND": "rq",
            # Every press of a burst is answered with the same child: wait for the
            # relay's answer here rather than get "sent" and ask again.
            "MJ_PRESS_ANSWER_SECONDS": "10",
            "MJ_IMAGE_ALLOW_LOOPBACK": "1",
            "STATIC_ROOT": str(tmp_path / "static"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "GUNICORN_THREADS": "4",
            # The pollers' bound counts their own calls: the workers' follow ticks stay out of it.
            "MJ_FOLLOW_SECONDS": str(FOLLOW_TICK),
            "RUN_WORKERS": "0",  # web only: the test runs its two workers as other hosts would
        }
    )
    return env


def _spawn(
    argv: list[str], env: dict, port: int, log: Path, *, workers: int
) -> tuple[subprocess.Popen, Path]:
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": str(workers)}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return proc, log


def _wait_ready(port: int, started: tuple[subprocess.Popen, Path], timeout: float = 90.0) -> None:
    proc, log = started
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # not bound yet, or a worker still booting
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    pytest.fail(f"server on port {port} did not become ready (exit {proc.poll()}):\n{tail}")


def _login(base: str, username: str = "ops", password: str = "ops-pass-12345") -> requests.Session:
    session = prodserver.client_session()
    page = session.get(f"{base}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:500]
    return session
