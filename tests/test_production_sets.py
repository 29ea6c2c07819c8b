"""A set of 500 end to end under the production profile, served by gunicorn (as `make prod` runs it)."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import API_KEY
from tests.test_production import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(240)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_set_of_500_is_pasted_shown_and_polled_under_gunicorn(simulator, tmp_path):
    ids = [simulator.add_task(run=900.0) for _ in range(500)]
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "MJ_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        PRODUCTION_ENV,
        MJ_API_BASE=simulator.base_url,
        MJ_API_KEY=API_KEY,
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
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, timeout=120)
    make_user = (
        "from django.contrib.auth.models import User; User.objects.create_user('prod', password='pw-123')"
    )
    subprocess.run(
        [*manage, "shell", "--no-imports", "-c", make_user], cwd=ROOT, env=env, check=True, timeout=60
    )
    gunicorn = [str(ROOT / ".venv/bin/gunicorn"), "mjdash.wsgi:application", "-b", f"127.0.0.1:{port}"]
    # As scripts/prod: gthread workers, and request lines up to 8190 bytes (old links of ~450 IDs).
    gunicorn += ["-w", "1", "--worker-class", "gthread", "--threads", "2", "--limit-request-line", "8190"]
    server = subprocess.Popen(
        gunicorn,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        session = requests.Session()
        for _ in range(200):
            try:
                session.get(f"{base}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        login = session.get(f"{base}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
        session.post(
            f"{base}/accounts/login/",
            data={"username": "prod", "password": "pw-123", "csrfmiddlewaretoken": token},
            timeout=10,
        )
        home = session.get(f"{base}/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', home.text).group(1)
        pasted = "\n".join(ids) + "\nAuthorization: Bearer sk-never-in-a-url"

        pasted_answer = session.post(
            f"{base}/tasks/",
            data={"ids": pasted, "csrfmiddlewaretoken": token},
            timeout=60,
            allow_redirects=False,
        )

        assert pasted_answer.status_code == 302
        set_url = pasted_answer.headers["Location"]
        assert re.fullmatch(r"/s/[A-Za-z0-9_-]{8,16}/", set_url)
        page = session.get(f"{base}{set_url}", timeout=60)
        assert page.status_code == 200
        # The first 100 cards, counted as the whole 500; the rest page by page, as htmx asks as one scrolls.
        assert page.text.count('class="card ') == 100 and "500 tasks" in page.text
        assert re.search(r'<div id="poller"[^>]*hx-post="/tasks/poll"', page.text) is not None
        shown = page.text.count('class="card ')
        for number in range(2, 6):
            more = session.get(f"{base}{set_url}?page={number}", headers={"HX-Request": "true"}, timeout=60)
            assert more.status_code == 200 and "<html" not in more.text
            shown += more.text.count('class="card ')
        assert shown == 500
        seen = ",".join(f"{task_id}:old" for task_id in ids)
        poll = session.post(
            f"{base}/tasks/poll",
            data={"ids": seen},
            headers={"X-CSRFToken": session.cookies["csrftoken"]},
            timeout=60,
        )
        assert poll.status_code == 200
        assert poll.text.count('hx-swap-oob="true"') >= 500
        old_link = f"{base}/tasks/?ids=" + ",".join(ids[:450])
        long_link = session.get(old_link, timeout=60, allow_redirects=False)
        assert long_link.status_code == 302 and long_link.headers["Location"].startswith("/s/")
    finally:
        server.terminate()
        server.wait(timeout=20)
