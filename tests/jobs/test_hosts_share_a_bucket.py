"""Two hosts sharing one bucket, as the README's "Several hosts" sets them up: on
one PostgreSQL and one Redis, each host a gunicorn and an RQ worker with its own
MEDIA_ROOT, all pointed at one bucket on a real S3 server (moto's, on loopback).

An image archived by one host's worker is served by the other host's web
process; a worker killed with SIGKILL in the middle of an upload leaves no half
object in the bucket and nothing half-served, and the image is archived whole
afterwards.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis
import requests
from django.conf import settings
from django.core.files.storage import storages

from tasks_app.models import TaskImage
from tests.jobs.test_multiprocess import ROOT, _login, _server_env, _spawn, _wait_ready
from tests.prodserver import free_port, stop_group
from tests.waiting import wait_until

pytestmark = [pytest.mark.multiprocess, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
ROUTES = ("thumb.webp", "large.webp", "image", "quadrant/3.webp")


class Host:
    def __init__(self, name: str, env: dict[str, str], tmp_path: Path):
        self.name = name
        self.media = tmp_path / f"media-{name}"
        self.env = {**env, "MEDIA_ROOT": str(self.media)}
        self.log = tmp_path / f"{name}.log"
        self.web: tuple[subprocess.Popen, Path] | None = None
        self.worker: subprocess.Popen | None = None
        self.base = ""

    def start_web(self) -> None:
        port = free_port()
        argv = [str(ROOT / ".venv/bin/gunicorn"), "mjdash.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        argv += ["--workers", "1", "--worker-class", "gthread", "--threads", "4", "--no-control-socket"]
        self.web = _spawn(argv, self.env, port, self.log, workers=1)
        _wait_ready(port, self.web)
        self.base = f"http://127.0.0.1:{port}"

    def start_worker(self) -> None:
        argv = [sys.executable, "manage.py", "worker"]  # every queue, over RQ (MJ_TASK_BACKEND=rq)
        self.worker = _spawn(argv, self.env, 0, self.log.with_suffix(".worker.log"), workers=0)[0]

    def local_files(self) -> list[Path]:
        return [p for p in self.media.rglob("*") if p.is_file()] if self.media.exists() else []

    def stop(self) -> None:
        for proc in (self.web[0] if self.web else None, self.worker):
            if proc is not None:
                stop_group(proc)


@pytest.fixture
def hosts(services_or_skip, sim, staff, bucket, tmp_path):
    env = {**_server_env(sim, tmp_path), **bucket.environ()}
    env.update(MJ_CLAIM_SECONDS="2", MJ_FOLLOW_SECONDS="0.5", MJ_MEDIA_URL_SECONDS="60")
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(collect, cwd=ROOT, env=env, check=True, timeout=120)
    pair = [Host("a", env, tmp_path), Host("b", env, tmp_path)]
    try:
        for host in pair:
            host.start_web()
        yield pair
    finally:
        for host in pair:
            host.stop()
        # Jobs the dead worker left behind, and the follow ticks scheduled in RQ,
        # would otherwise be run by the next test's workers against its tasks.
        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def _finished(simulator, prompt: str) -> str:
    return simulator.add_task(prompt=prompt, queued=0.0, run=1.0, ago=600.0)


def _served_whole(session: requests.Session, base: str, task_id: str, image: TaskImage) -> None:
    """Every file route of the other host redirects to the bucket; what it points at is whole."""
    for route in ROUTES:
        answer = session.get(f"{base}/tasks/{task_id}/{route}", allow_redirects=False, timeout=30)
        assert answer.status_code == 302, (route, answer.status_code, answer.text[:300])
        fetched = requests.get(answer.headers["Location"], timeout=30)
        assert fetched.status_code == 200, route
        if route == "image":
            assert hashlib.sha256(fetched.content).hexdigest() == image.sha256
            assert len(fetched.content) == image.bytes


def test_an_image_archived_by_one_host_is_served_by_the_other(hosts, sim, bucket):
    a, b = hosts
    a.start_worker()  # only host A archives
    task_id = _finished(sim, "archived on a")
    on_a = _login(a.base)
    assert on_a.get(f"{a.base}/tasks/", params={"ids": task_id}, timeout=30).status_code == 200

    wait_until(
        lambda: (
            TaskImage.objects.filter(task_id=task_id, state="ok").count() == 5
            and TaskImage.objects.filter(task_id=task_id, index=0, quadrants=True).exclude(large="").exists()
        ),
        timeout=120,
        what="host A's worker to archive the grid, its four images and the grid's renditions",
    )
    image = TaskImage.objects.get(task_id=task_id, index=0)
    _served_whole(_login(b.base), b.base, task_id, image)
    assert a.local_files() == [] and b.local_files() == []  # everything is in the bucket


def test_a_worker_killed_mid_upload_leaves_no_half_object_served(hosts, sim, bucket, s3_server):
    a, b = hosts
    a.start_worker()
    b.start_worker()
    task_id = _finished(sim, "killed mid-upload")
    hold = s3_server.hold(f"images/{task_id}/0-")  # the grid's original: the first file written
    on_b = _login(b.base)
    assert on_b.get(f"{b.base}/tasks/", params={"ids": task_id}, timeout=30).status_code == 200

    assert hold.arrived.wait(timeout=120), "no worker started the upload"
    uploader = _owner_of_port(hold.remote_port)
    victim = next(host for host in hosts if uploader in _group(host.worker.pid))
    # The host's worker dies at once: its process group, and the job's process
    # (RQ forks it into a session of its own), the one that was uploading.
    os.kill(uploader, signal.SIGKILL)
    os.killpg(victim.worker.pid, signal.SIGKILL)
    victim.worker.wait(timeout=10)
    wait_until(lambda: _dead(uploader), timeout=10, what="the uploading process to die")
    hold.released.set()  # the server now reads what is left of a body whose sender is dead

    assert TaskImage.objects.get(task_id=task_id, index=0).state == "running"
    for host in hosts:
        session = _login(host.base)
        answer = session.get(f"{host.base}/tasks/{task_id}/image", allow_redirects=False, timeout=30)
        assert answer.status_code == 503, answer.status_code  # on its way, never a half file
    assert not [key for key in bucket.stored() if key.startswith(f"images/{task_id}/0-")]

    # The claim lapses (MJ_CLAIM_SECONDS); the surviving host takes the image over:
    # its worker's next tick, or `archive_images` run there, whichever comes first.
    survivor = a if victim is b else b
    time.sleep(2.5)
    archive = [sys.executable, "manage.py", "archive_images"]
    done = subprocess.run(archive, cwd=ROOT, env=survivor.env, timeout=120, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    wait_until(
        lambda: TaskImage.objects.filter(task_id=task_id, index=0, state="ok", quadrants=True).exists(),
        timeout=60,
        what=f"the surviving host to archive the image ({done.stdout.strip()})",
    )
    image = TaskImage.objects.get(task_id=task_id, index=0)
    _served_whole(_login(victim.base), victim.base, task_id, image)
    assert storages["default"].exists(image.original)


def _dead(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _group(pid: int) -> set[int]:
    process = psutil.Process(pid)
    return {pid, *(child.pid for child in process.children(recursive=True))}


def _owner_of_port(port: int) -> int:
    """The process whose TCP connection to the S3 server leaves from this local port."""
    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr and connection.laddr.port == port and connection.pid:
            return connection.pid
    raise AssertionError(f"no process owns local port {port}")
