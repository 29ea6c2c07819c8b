"""Dead services: with the cache (Redis) down pages render from the database with
a banner; with the database down the answer is the dashboard's own outage page."""

import json
import subprocess
import sys

import pytest
import requests
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse

import mjdash.cache
from tasks_app import services
from tasks_app.models import Press, Task
from tests import prodserver

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def redis_settings():
    """The cache settings production uses with REDIS_URL set (read from a fresh process)."""
    code = "import json; from django.conf import settings as s; print(json.dumps(s.CACHES))"
    env = prodserver.production_env(prodserver.ROOT, REDIS_URL="redis://127.0.0.1:6379/0")
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=prodserver.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_down(redis_settings):
    """Those settings, with Redis gone: nothing listens on its port."""
    caches = json.loads(json.dumps(redis_settings))
    caches["default"]["LOCATION"] = f"redis://127.0.0.1:{prodserver.free_port()}/0"
    mjdash.cache._down_until = 0.0
    with override_settings(CACHES=caches):
        yield
    mjdash.cache._down_until = 0.0


@pytest.mark.django_db
def test_pages_render_from_the_database_while_redis_is_down(logged_in, simulator, settings, redis_down):
    settings.MJ_FRESHNESS_SECONDS = 5
    done = simulator.add_task(prompt="a stored fox", queued=0.0, run=1.0)
    running = simulator.add_task(prompt="a running owl", queued=0.0, run=500.0)
    simulator.clock.advance(60)
    services.task_lookup(ids=[done, running])
    Task.objects.filter(pk=running).update(last_fetched=None)  # due: with a cache it would be asked
    simulator.reset_counters()

    listing = logged_in.get(f"/tasks/?ids={done},{running}")
    detail = logged_in.get(f"/tasks/{running}/")
    home = logged_in.get("/")
    poll = logged_in.post("/tasks/poll", {"ids": f"{running}:old"}, HTTP_HX_REQUEST="true")
    chinese = logged_in.get(f"/tasks/{done}/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    for response in (listing, detail, home, poll, chinese):
        assert response.status_code == 200
    text = listing.content.decode()
    assert "a stored fox" in text and "a running owl" in text  # from the database
    assert "Cache unavailable" in text and "Cache unavailable" in detail.content.decode()
    assert "缓存不可用" in chinese.content.decode()
    assert simulator.calls["list"] == 0  # no claim could be taken: nobody asked the relay


@pytest.mark.django_db
def test_presses_are_paused_not_guessed_while_redis_is_down(logged_in, user, simulator, redis_down):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    grid = simulator.add_task(prompt="a lighthouse", queued=0.0, run=1.0)
    simulator.clock.advance(60)
    services.task_lookup(ids=[grid])
    u1 = next(b["customId"] for b in Task.objects.get(pk=grid).buttons if b["label"] == "U1")

    response = logged_in.post(reverse("task_action", args=[grid]), {"custom_id": u1}, HTTP_HX_REQUEST="true")

    assert response.status_code == 503 and "paused" in response.content.decode()
    assert simulator.calls["action"] == 0 and not Press.objects.exists()


def test_with_the_database_unreachable_the_answer_is_the_dashboards_own_outage_page(tmp_path):
    closed = prodserver.free_port()  # nothing listens there
    env = prodserver.production_env(tmp_path, DATABASE_URL=f"postgres://mj:pw@127.0.0.1:{closed}/mj")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=prodserver.ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    with prodserver.gunicorn(env) as base:
        cookies = {"sessionid": "a-session-the-database-would-hold"}  # a signed-in visitor
        english = requests.get(f"{base}/", cookies=cookies, timeout=30)
        chinese = requests.get(
            f"{base}/", cookies=cookies, headers={"Accept-Language": "zh-hans"}, timeout=30
        )
        health = requests.get(f"{base}/healthz", timeout=30)

    assert english.status_code == 503 and english.headers["Retry-After"] == "30"
    assert "database is unavailable" in english.text and '<html lang="en">' in english.text
    assert chinese.status_code == 503 and '<html lang="zh-hans">' in chinese.text
    assert "数据库暂时不可用" in chinese.text
    assert health.status_code == 200  # the process itself is alive
