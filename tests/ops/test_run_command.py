"""`make run`'s server in demo mode, as a newcomer starts it: a real process (twice,
for a restart), on the port given by PORT."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from tests import prodserver

ROOT = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def test_demo_mode_starts_the_simulator_prints_a_login_and_shows_the_samples(tmp_path):
    env = _demo_env(tmp_path)
    subprocess.run([*MANAGE, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)
    server, session, base, samples = _serve(env, prodserver.free_port())
    try:
        page = session.get(f"{base}/tasks/", params={"ids": ",".join(samples)}, timeout=30)

        assert page.status_code == 200
        assert "Demo upstream" in page.text
        assert page.text.count('class="card ') == len(samples) >= 8
        assert "not known to the relay" not in page.text
        archive = session.get(f"{base}/tasks/", timeout=30)  # seeded: worth opening
        assert archive.text.count('class="card ') >= 30
        assert "Demo samples" in session.get(f"{base}/", timeout=30).text
    finally:
        prodserver.stop_group(server)


def _demo_env(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MJ_", "DATABASE_URL", "REDIS_URL", "PORT"))
    }
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3", MEDIA_ROOT=str(tmp_path / "media"))
    return env


def _serve(env, port):
    """`manage.py serve` as `PORT=<port> make run` starts it (no --port), logged in as
    demo; returns the process, the session, the base URL and the sample IDs it printed."""
    server = subprocess.Popen(
        [*MANAGE, "serve", "--simulator-port", str(prodserver.free_port())],
        env={**env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its workers too are stopped with it
    )
    try:
        return server, *_log_in(server, port)
    except BaseException:
        prodserver.stop_group(server)  # else it and its workers outlive the test
        raise


def _log_in(server, port):
    printed = ""
    deadline = time.monotonic() + 60
    while "Sample task IDs" not in printed and time.monotonic() < deadline:
        printed += server.stdout.readline()
    # Keep reading what it prints: a full pipe would block its log writes and requests.
    threading.Thread(target=server.stdout.read, daemon=True).start()
    password = re.search(r"user: demo\s+password: (\S+)", printed).group(1)
    samples = printed.split("Sample task IDs:", 1)[1].split()
    base = f"http://127.0.0.1:{port}"
    session = prodserver.client_session()
    for _ in range(100):  # runserver binds a moment after printing
        try:
            session.get(f"{base}/healthz", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    token = re.search(
        r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(f"{base}/accounts/login/").text
    )
    session.post(
        f"{base}/accounts/login/",
        data={"username": "demo", "password": password, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=30,  # the demo's worker may be archiving every seeded image meanwhile
    )
    return session, base, samples


def test_a_restarted_demo_shows_its_running_samples_running_on_the_port_given_by_port(tmp_path):
    from tasks_app.simulator.seed import IN_PROGRESS, MODAL, SUBMITTED

    env = _demo_env(tmp_path)
    subprocess.run([*MANAGE, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)
    port = prodserver.free_port()
    server, session, base, _samples = _serve(env, port)
    try:
        assert session.get(f"{base}/tasks/{IN_PROGRESS}/", timeout=30).status_code == 200
    finally:
        prodserver.stop_group(server)
    # What a long first run leaves: the worker followed every sample to its end.
    finish = (
        "from tasks_app.models import Task; from tasks_app.simulator.seed import SAMPLE_IDS; "
        "Task.objects.filter(pk__in=SAMPLE_IDS).update(status='SUCCESS', progress=100)"
    )
    subprocess.run([*MANAGE, "shell", "-c", finish], env=env, check=True, timeout=60)

    port = prodserver.free_port()
    server, session, base, _samples = _serve(env, port)  # the second `make run`
    try:
        assert base.endswith(f":{port}")
        for sample, badge in (
            (IN_PROGRESS, "badge-in_progress"),
            (SUBMITTED, "badge-submitted"),
            (MODAL, "badge-modal"),
        ):
            page = session.get(f"{base}/tasks/{sample}/", timeout=30).text
            heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
            assert "badge-success" not in heading, (sample, heading)
            assert badge in heading, (sample, heading)
    finally:
        prodserver.stop_group(server)


def test_a_port_that_is_not_a_number_stops_serve_with_a_clear_message(tmp_path):
    env = {**_demo_env(tmp_path), "PORT": "eighty"}
    done = subprocess.run([*MANAGE, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "PORT must be a port number from 1 to 65535, got 'eighty'" in done.stderr
