"""`make run`'s server in demo mode, as a newcomer starts it: a real process."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_mode_starts_the_simulator_prints_a_login_and_shows_the_samples(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MJ_", "DATABASE_URL", "REDIS_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3", MEDIA_ROOT=str(tmp_path / "media"))
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(
        [*manage, "serve", "--port", str(port), "--simulator-port", str(_free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = ""
        deadline = time.monotonic() + 60
        while "Sample task IDs" not in printed and time.monotonic() < deadline:
            printed += server.stdout.readline()
        password = re.search(r"user: demo\s+password: (\S+)", printed).group(1)
        samples = printed.split("Sample task IDs:", 1)[1].split()
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        for _ in range(100):  # runserver binds a moment after printing
            try:
                session.get(f"{base}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        login = session.get(f"{base}/accounts/login/", timeout=5)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        session.post(
            f"{base}/accounts/login/",
            data={"username": "demo", "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/accounts/login/"},
            timeout=5,
        )

        page = session.get(f"{base}/tasks/", params={"ids": ",".join(samples)}, timeout=30)

        assert page.status_code == 200
        assert "Demo upstream" in page.text
        assert page.text.count('class="card ') == len(samples) >= 8
        assert "not known to the relay" not in page.text
        archive = session.get(f"{base}/tasks/", timeout=30)  # seeded: worth opening
        assert archive.text.count('class="card ') >= 30
        assert "Demo samples" in session.get(f"{base}/", timeout=30).text
    finally:
        server.terminate()
        server.wait(timeout=10)
