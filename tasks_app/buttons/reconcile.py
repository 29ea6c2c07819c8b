"""A press sent with no recorded outcome: ask the relay what became of it.

Its submit left with a marker in the relay's `state` field (presses.send), and
the relay echoes `state` in the task it starts. When the sender died or its
database went away after the relay accepted, the press stays pending with its
marker; it is never sent again. Instead:

- a task the relay reports (a push, or a lookup) whose `state` is the marker,
  as the relay itself confirms, becomes the press's child (`adopt`);
- otherwise the parent is asked again: a button the relay now shows as pressed
  (style 3), or a MODAL task that left MODAL, says the submit arrived, and the
  press is settled as received; no trace says it never arrived, and the press
  fails, so that pressing again sends it once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app import relay, services
from tasks_app.buttons import presses
from tasks_app.models import Press, Task
from tasks_app.relay import Code, Status

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 20
CREATE_TRACE = timedelta(minutes=10)


def due(press: Press) -> bool:
    """Sent, unsettled, and past the longest a submit may take: its sender is gone."""
    if press.state != Press.State.PENDING or not press.marker or press.sent is None:
        return False
    return timezone.now() - press.sent >= timedelta(seconds=relay.longest_call())


def overdue_ids() -> list[int]:
    """Presses to reconcile now (the workers' tick sweeps them)."""
    since = timezone.now() - timedelta(seconds=relay.longest_call())
    found = Press.objects.filter(state=Press.State.PENDING, sent__lt=since).exclude(marker="")
    return list(found.order_by("sent").values_list("pk", flat=True)[:SWEEP_LIMIT])


def reconcile_press(press_id: int) -> str:
    press = Press.objects.select_related("task", "user").filter(pk=press_id).first()
    return "settled" if press is None else reconcile(press)


def reconcile(press: Press) -> str:
    """Settle a maybe-sent press from what the relay says; never submit it again."""
    if not due(press):
        return "waiting"  # its sender may still be waiting for the relay's answer
    # Only tasks first seen since the submit left: the marker is looked for in a few rows.
    recent = Task.objects.filter(first_seen__gte=press.sent - timedelta(minutes=1))
    known = list(recent.filter(payload__state=press.marker).values_list("pk", flat=True))
    if known:
        _settle_with(press, known)
        return "adopted"
    task = press.task
    if task is None:
        return _create_unseen(press)
    try:
        records = relay.list_by_condition([task.id])
    except relay.UpstreamError as exc:
        logger.warning("press %s: reconciling failed, asking again later: %s", press.pk, exc)
        return "unsure"
    if records:
        services.task_store(records=records)
        task.refresh_from_db()
    if press.custom_id == presses.MODAL_KEY:
        if task.status != Status.MODAL:  # the form was received: the task runs
            presses.durably(lambda: presses.done(press, Code.SUBMITTED, [task.id]))
            return "adopted"
    elif _shows_pressed(task, press.custom_id):
        message = _("The relay received this press; its new task appears here when the relay reports it.")
        presses.durably(lambda: presses.done(press, Code.SUBMITTED, [], message=message))
        return "received"
    message = _("The relay has no trace of this press: press again to send it.")
    presses.durably(lambda: presses.fail(press, message))
    return "not received"


def _create_unseen(press: Press) -> str:
    """A create with no task carrying its marker yet: it has no parent to ask.

    Its new task's ID is unknown, so only a push (notifyHook) or a later
    lookup can show it. Until CREATE_TRACE passes it stays pending (the same
    submit pressed again is not sent); then it fails, saying the relay may
    still have started it.
    """
    if timezone.now() - press.sent < CREATE_TRACE:
        return "unsure"
    message = _(
        "The relay never said whether it received this; it may still have started the job. "
        "Submit again only if the task does not appear."
    )
    presses.durably(lambda: presses.fail(press, message))
    return "not received"


def is_marker(value: str) -> bool:
    return isinstance(value, str) and value.startswith(presses.MARKER_PREFIX)


def adopt(*, task_id: str, marker: str) -> str:
    """A task reported with a press's marker becomes its child, once the relay confirms it.

    The report (a push) is only a hint: the relay's own record must carry the marker.
    """
    press = Press.objects.select_related("task", "user").filter(marker=marker).first()
    if press is None or task_id in press.child_ids or press.state == Press.State.FAILED:
        return "ignored"
    try:
        records = relay.list_by_condition([task_id])
    except relay.UpstreamError as exc:
        logger.warning("press %s: confirming task %s failed: %s", press.pk, task_id, exc)
        return "unsure"
    record = next((r for r in records if r.id == task_id), None)
    if record is None or record.state != marker:
        return "ignored"
    services.task_store(records=[record])
    _settle_with(press, [task_id])
    return "adopted"


def _settle_with(press: Press, ids: list[str]) -> None:
    def write():
        presses.record_children(ids=ids, lineage=presses.lineage(press))
        press.refresh_from_db()
        children = list(dict.fromkeys([*press.child_ids, *ids]))
        presses.done(press, press.code or Code.SUBMITTED, children, message="")

    presses.durably(write)


def _shows_pressed(task: Task, custom_id: str) -> bool:
    buttons = task.buttons if isinstance(task.buttons, list) else []
    return any(
        isinstance(b, dict) and b.get("customId") == custom_id and str(b.get("style")) == "3" for b in buttons
    )
