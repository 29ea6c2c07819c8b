"""The claim on an image download: kept while a worker works, whatever the database does."""

import logging
import sqlite3
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from tasks_app.images import archive
from tasks_app.models import Task, TaskImage
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_claim_keeper_outlives_a_locked_database(settings, caplog, monkeypatch):
    """Another connection holds SQLite's write lock for several renewals: each one
    fails with "database is locked"; once the lock is gone the claim is renewed again."""
    if connection.vendor != "sqlite":
        pytest.skip("the lock is SQLite's: one writer at a time")
    settings.MJ_CLAIM_SECONDS = 0.6  # a renewal every 0.2 s
    # The keeper's own connection (its thread's) gives up on a lock after 50 ms, not 20 s.
    monkeypatch.setitem(connections.settings["default"]["OPTIONS"], "timeout", 0.05)
    task = Task.objects.create(id="1743000000000777", status="SUCCESS", image_url="http://img.test/a.png")
    image = TaskImage.objects.create(
        task=task,
        index=0,
        source_url=task.image_url,
        state=TaskImage.State.RUNNING,
        claim="keeper-token",
        claimed_until=timezone.now(),
    )
    caplog.set_level(logging.WARNING, logger="tasks_app.images.archive")

    def failures() -> int:
        return sum("renewal failed" in r.getMessage() and "locked" in r.getMessage() for r in caplog.records)

    def claimed_until():
        return TaskImage.objects.values_list("claimed_until", flat=True).get(pk=image.pk)

    with archive._claim_kept(image.pk, "keeper-token"):
        locker = sqlite3.connect(connection.settings_dict["NAME"], timeout=5, isolation_level=None)
        try:
            locker.execute("BEGIN IMMEDIATE")  # the write lock, held
            wait_until(lambda: failures() >= 3, what="renewals that hit the lock", timeout=30.0, every=0.02)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        released = timezone.now()
        wait_until(
            lambda: claimed_until() > released + timedelta(seconds=0.3),
            what="a renewal after the lock",
            timeout=30.0,
            every=0.02,
        )
