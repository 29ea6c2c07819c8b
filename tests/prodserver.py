"""A gunicorn in the production profile, started as scripts/prod starts it, for tests
that need a real server process (outages, load)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.ops.test_production import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = "prod", "pw-123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(tmp_path: Path, **changes: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "MJ_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        PRODUCTION_ENV,
        MJ_TASK_BACKEND="immediate",
        MJ_FOLLOW_SECONDS="3600",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DATABASE_URL=f"sqlite:///{tmp_path}/prod.sqlite3",
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_LOG_LEVEL="WARNING",
    )
    env.update(changes)
    return env


def prepare(env: dict[str, str]) -> None:
    """Migrate, collect static files and create the test user, as a deploy would."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, timeout=120)
    make_user = "from django.contrib.auth.models import User; "
    make_user += f"User.objects.filter(username={USER!r}).exists() or "
    make_user += f"User.objects.create_user({USER!r}, password={PASSWORD!r})"
    subprocess.run(
        [*manage, "shell", "--no-imports", "-c", make_user], cwd=ROOT, env=env, check=True, timeout=60
    )


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 1, threads: int = 2):
    """Serve on a free loopback port; yields the base URL."""
    port = free_port()
    command = [str(ROOT / ".venv/bin/gunicorn"), "mjdash.wsgi:application", "-b", f"127.0.0.1:{port}"]
    command += ["-w", str(workers), "--worker-class", "gthread", "--threads", str(threads)]
    command += ["--limit-request-line", "8190"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:  # not listening yet, or still booting
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to a process group a test started (scripts/prod, gunicorn and its workers),
    then SIGKILL to what is left after 30 s: a stuck stop must not fail the test it ends."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def client_session() -> requests.Session:
    """A requests session that sends a GET again, once, when the server closed the
    kept-alive connection as it was sent (gunicorn drops a connection idle for 2 s;
    a browser retries such a GET too). Other methods are never sent twice."""
    session = requests.Session()
    again = Retry(
        total=1,
        connect=1,
        read=1,
        status=0,
        other=0,
        allowed_methods=["GET", "HEAD"],
        respect_retry_after_header=False,  # a 503 is an answer the tests read
        raise_on_status=False,
    )
    session.mount("http://", HTTPAdapter(max_retries=again))
    return session


def login(base: str) -> requests.Session:
    session = client_session()
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    session.post(
        f"{base}/accounts/login/",
        data={"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token},
        timeout=10,
    )
    return session
