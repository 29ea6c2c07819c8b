"""Presses are never lost or doubled: a press whose outcome the dashboard lost
(a database blip after the relay accepted, a timeout, a killed worker) is
reconciled with the relay, never sent again (tasks_app/buttons/reconcile.py)."""

import json
import os
import signal
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connections
from django.db.models import F
from django.urls import reverse

from tasks_app import services
from tasks_app.buttons import presses, reconcile
from tasks_app.models import Press, Task
from tasks_app.simulator.tasks import SimTask
from tests.waiting import wait_until

TOKEN = "hook-token-reconcile"


@pytest.fixture
def presser(client, user, settings):
    settings.MJ_NOTIFY_TOKEN = TOKEN
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    client.force_login(user)
    return client


def _finished(simulator):
    task_id = simulator.add_task(prompt="a lighthouse at dusk", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    simulator.reset_counters()
    return task_id


def _u2(task_id):
    return next(b["customId"] for b in Task.objects.get(pk=task_id).buttons if b["label"] == "U2")


def _press(client, task_id):
    return client.post(reverse("task_action", args=[task_id]), {"custom_id": _u2(task_id)})


def _press_answered_too_late(client, simulator, settings):
    """U2 pressed on a finished grid; the relay accepts, then answers after the read
    deadline: the sender cannot know it was billed. Returns the grid and its press."""
    settings.MJ_READ_TIMEOUT = 0.3
    grid = _finished(simulator)
    simulator.after_submit.append(lambda route, body: time.sleep(1.0))
    _press(client, grid)
    simulator.after_submit.clear()
    return grid, Press.objects.get(task_id=grid)


def _relay_children(simulator, parent_id):
    found = (simulator.stored(i) for i in simulator.task_ids())
    return [t.id for t in found if isinstance(t, SimTask) and t.parent_id == parent_id]


def _push(client, simulator, task_id):
    body = json.dumps(simulator.payload(task_id))
    return client.post(f"/hooks/notify/{TOKEN}", body, content_type="application/json")


def _sender_gone(press_id):
    """Time passes beyond the longest a submit may take (its sender is presumed dead)."""
    Press.objects.filter(pk=press_id).update(sent=F("sent") - timedelta(hours=1))


@pytest.mark.django_db(transaction=True)
def test_a_database_blip_right_after_the_relay_accepted_loses_no_child(presser, simulator, user):
    grid = _finished(simulator)
    press, owner = presses.claim(task=Task.objects.get(pk=grid), key=_u2(grid), user=user)
    sender = connections["default"]  # this thread's connection (the proxy would resolve per thread)
    sender.ensure_connection()
    # The relay accepts (and bills); before its answer arrives the database connection dies.
    simulator.after_submit.append(lambda route, body: sender.connection.close())

    outcome = presses.send(press_id=press.pk)

    simulator.after_submit.clear()
    press.refresh_from_db()
    children = _relay_children(simulator, grid)
    assert owner and outcome == "sent"
    assert simulator.calls["action"] == 1 and len(children) == 1
    assert press.state == Press.State.DONE and press.child_ids == children
    child = Task.objects.get(pk=children[0])
    assert child.parent_id == grid and child.pressed_by == user


def test_a_press_that_timed_out_after_the_relay_accepted_is_adopted_not_sent_again(
    presser, simulator, settings, user
):
    grid, press = _press_answered_too_late(presser, simulator, settings)
    assert press.state == Press.State.PENDING and press.marker  # maybe sent: not failed, not resent

    again = _press(presser, grid)  # too early to tell: the sender may still be waiting
    assert again.status_code == 302 and simulator.calls["action"] == 1

    _sender_gone(press.pk)
    _press(presser, grid)  # now the press is reconciled: the relay shows U2 pressed
    press.refresh_from_db()
    assert press.state == Press.State.DONE and press.child_ids == []
    assert "received this press" in press.message

    child = _relay_children(simulator, grid)[0]
    assert simulator.payload(child)["state"] == press.marker  # the relay echoes the marker
    pushed = _push(presser, simulator, child)  # the relay reports the child it started

    press.refresh_from_db()
    assert pushed.json() == {"confirming": [child]}
    assert press.child_ids == [child] and Task.objects.get(pk=child).parent_id == grid
    assert Task.objects.get(pk=child).pressed_custom_id == _u2(grid)
    _press(presser, grid)  # within the window: the same intent, nothing sent
    assert simulator.calls["action"] == 1 and len(_relay_children(simulator, grid)) == 1


def test_a_maybe_sent_press_long_overdue_is_reconciled_when_pressed_again_never_resent(
    presser, simulator, settings
):
    grid, press = _press_answered_too_late(presser, simulator, settings)
    assert press.state == Press.State.PENDING and press.marker
    # Hours later: past the double-press window, the pending limit and the longest submit.
    Press.objects.filter(pk=press.pk).update(
        created=F("created") - timedelta(hours=1), sent=F("sent") - timedelta(hours=1)
    )

    _press(presser, grid)

    press.refresh_from_db()
    assert simulator.calls["action"] == 1 and len(_relay_children(simulator, grid)) == 1
    assert press.state == Press.State.DONE and "received this press" in press.message


def test_a_child_already_stored_with_the_marker_is_adopted_when_the_press_is_reconciled(
    presser, simulator, settings
):
    grid, press = _press_answered_too_late(presser, simulator, settings)
    child = _relay_children(simulator, grid)[0]
    services.task_lookup(ids=[child])  # someone pasted the new task's ID meanwhile
    _sender_gone(press.pk)

    _press(presser, grid)

    press.refresh_from_db()
    assert press.state == Press.State.DONE and press.child_ids == [child]
    assert Task.objects.get(pk=child).parent_id == grid and simulator.calls["action"] == 1


def test_a_push_with_a_marker_the_relay_does_not_confirm_adopts_nothing(presser, simulator, settings):
    grid, press = _press_answered_too_late(presser, simulator, settings)
    other = simulator.add_task(prompt="someone else's job", queued=0.0, run=100.0)
    forged = {**simulator.payload(other), "state": press.marker}  # the relay's record has no marker

    response = presser.post(f"/hooks/notify/{TOKEN}", json.dumps(forged), content_type="application/json")

    press.refresh_from_db()
    assert response.status_code == 200
    assert press.child_ids == [] and not Task.objects.filter(pk=other).exists()


def test_a_press_the_relay_never_received_fails_and_pressing_again_sends_it_once(presser, simulator):
    grid = _finished(simulator)
    simulator.set_fault("500", times=1, routes=("action",))  # a gateway error: maybe sent, in fact not
    _press(presser, grid)
    press = Press.objects.get(task_id=grid)
    assert press.state == Press.State.PENDING

    _sender_gone(press.pk)
    _press(presser, grid)
    press.refresh_from_db()
    assert press.state == Press.State.FAILED and "no trace" in press.message
    assert simulator.calls["action"] == 1 and _relay_children(simulator, grid) == []

    _press(presser, grid)  # a deliberate new press: sent once
    press.refresh_from_db()
    assert simulator.calls["action"] == 2 and len(_relay_children(simulator, grid)) == 1
    assert press.state == Press.State.DONE and press.child_ids == _relay_children(simulator, grid)


def test_the_double_press_window_counts_from_the_outcome_not_the_claim(presser, simulator, settings):
    settings.MJ_PRESS_WINDOW_SECONDS = 10
    grid = _finished(simulator)
    _press(presser, grid)
    # A press that took long to settle: claimed a minute ago, answered just now.
    Press.objects.filter(task_id=grid).update(created=F("created") - timedelta(minutes=1))

    _press(presser, grid)

    assert simulator.calls["action"] == 1


def test_the_workers_tick_reconciles_a_press_whose_sender_died(presser, simulator, settings):
    grid, press = _press_answered_too_late(presser, simulator, settings)
    _sender_gone(press.pk)

    assert reconcile.overdue_ids() == [press.pk]
    from tasks_app import jobs

    jobs.follow_tick.call("token")

    press.refresh_from_db()
    assert press.state == Press.State.DONE and reconcile.overdue_ids() == []
    assert simulator.calls["action"] == 1


# ---- real processes killed ------------------------------------------------------------


def test_a_worker_killed_mid_press_leaves_it_settled_once_and_sent_once(
    workers, simulator, settings, client, user
):
    settings.MJ_NOTIFY_TOKEN = TOKEN
    settings.MJ_READ_TIMEOUT = 5.0
    settings.MJ_RELAY_DEADLINE = 8.0
    settings.MJ_PRESS_ANSWER_SECONDS = 0.1
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    client.force_login(user)
    grid = _finished(simulator)
    simulator.latency = 3.0  # the submit is on its way when the worker dies

    _press(client, grid)
    worker = workers.start(1).processes[0]
    wait_until(lambda: simulator.calls["action"] == 1, what="the worker to send the press")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    wait_until(lambda: _relay_children(simulator, grid), what="the relay to accept it")
    simulator.latency = 0.0
    workers.start(1)
    press = Press.objects.get(task_id=grid)
    assert press.state == Press.State.PENDING and press.marker

    _sender_gone(press.pk)
    _press(client, grid)  # the person presses again: the press is reconciled, not re-sent
    wait_until(lambda: Press.objects.get(pk=press.pk).state != Press.State.PENDING, what="the reconcile")
    child = _relay_children(simulator, grid)[0]
    client.post(
        f"/hooks/notify/{TOKEN}", json.dumps(simulator.payload(child)), content_type="application/json"
    )
    wait_until(lambda: Press.objects.get(pk=press.pk).child_ids == [child], what="the child's adoption")

    assert simulator.calls["action"] == 1 and _relay_children(simulator, grid) == [child]
    assert Task.objects.get(pk=child).parent_id == grid
    assert Press.objects.filter(task_id=grid).count() == 1
