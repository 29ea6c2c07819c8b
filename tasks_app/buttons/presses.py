"""The `Press` row: who submits a button, and recording what the relay answered.

A press of one button of one task reaches the relay once per window however
many requests (tabs, browsers, app processes) arrive at once: whoever creates
or renews the row submits; the others wait for its outcome and share it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app import relay, services
from tasks_app.buttons.custom_ids import action_of
from tasks_app.buttons.rows import USED_STYLE, ButtonView, button_label, button_rows
from tasks_app.models import Press, Task
from tasks_app.relay import Code, Status, SubmitResult

MODAL_KEY = "::modal"  # the Press key of a MODAL form's submit
MARKER_PREFIX = "mjdash-press-"  # of the tag a submit carries in `state`
CREATE_PREFIX = "create:"  # of a create's key, and of its tasks' pressed_custom_id


@dataclass
class PressOutcome:
    """What a press led to: new (or existing) children, a MODAL form to fill, or a message."""

    task: Task | None  # None: a create (it has no parent task)
    children: list[Task] = field(default_factory=list)
    modal: Task | None = None
    message: str = ""
    duplicate: bool = False
    pending: bool = False  # the relay has not answered yet: the page asks again
    press_id: int | None = None
    used_button: ButtonView | None = None  # the pressed button, to show as used at once

    @property
    def ok(self) -> bool:
        return bool(self.children or self.modal or self.pending)


def pending_limit() -> float:
    """How long a press may stay pending: the window, or a submit's longest wait."""
    return max(settings.MJ_PRESS_WINDOW_SECONDS, relay.longest_call() + 5)


def claim(*, task: Task, key: str, user) -> tuple[Press, bool]:
    """(press, True) when this request must submit; (press, False) when another does or did."""
    now = timezone.now()
    with transaction.atomic():
        press, created = Press.objects.select_for_update().get_or_create(
            task=task, custom_id=key, defaults={"created": now, "user": user}
        )
        if created:
            return press, True
        if press.state == Press.State.PENDING:
            # Sent, outcome unknown: it may have reached the relay, so it is
            # reconciled (reconcile.py), never sent again. Unsent and overdue:
            # its job was lost before sending, so it is taken over.
            if press.marker or (now - press.created).total_seconds() < pending_limit():
                return press, False
        elif press.state == Press.State.DONE:
            # The window counts from the outcome: a press that took 40 s to
            # settle is not billed again by an immediate re-press.
            since = press.settled or press.created
            if (now - since).total_seconds() < settings.MJ_PRESS_WINDOW_SECONDS:
                return press, False
        press.created, press.user, press.state = now, user, Press.State.PENDING
        press.code, press.child_ids, press.modal_id, press.message = None, [], "", ""
        press.marker, press.sent, press.settled = "", None, None
        press.save()
        return press, True


def wait(press: Press, seconds: float) -> Press:
    """Wait a moment for the job that sends this press; a page never waits longer.

    A press still pending afterwards is answered as accepted, and the page asks
    again until it settles.
    """
    deadline = min(
        timezone.now() + timedelta(seconds=seconds), press.created + timedelta(seconds=pending_limit())
    )
    while press.state == Press.State.PENDING and timezone.now() < deadline:
        time.sleep(0.05)
        press.refresh_from_db()
    if press.state == Press.State.PENDING and not press.message:
        press.message = _("Sent to the relay; the new task appears here when it answers.")
    return press


def send(*, press_id: int, prompt: str | None = None, mask: str = "") -> str:
    """The job's part: send one claimed press to the relay (paid) and record the answer."""
    press = (
        Press.objects.select_related("task", "user").filter(pk=press_id, state=Press.State.PENDING).first()
    )
    if press is None:
        return "settled"
    task, hook = press.task, services.notify_hook_url()

    def call(marker: str) -> SubmitResult:
        if press.custom_id == MODAL_KEY:
            return relay.submit_modal(
                task.id, prompt=prompt or "", mask_base64=mask, notify_hook=hook, state=marker
            )
        return relay.submit_action(task.id, press.custom_id, notify_hook=hook, state=marker)

    return deliver(press, call, lambda answer: settle(press, answer, lineage(press), prompt=prompt or ""))


def deliver(press: Press, call, record) -> str:
    """Send a claimed press once, with its marker; `record` stores what the relay answered.

    Shared by button presses and creates: whatever happens after the marker is
    committed (a crash, a timeout, a database blip), the press is known to be
    maybe-sent, so it is reconciled (reconcile.py), never sent again.
    """
    if press.marker:  # an earlier attempt may have reached the relay
        from tasks_app.buttons import reconcile

        return reconcile.reconcile(press)
    marker = f"{MARKER_PREFIX}{press.pk}-{uuid.uuid4().hex[:16]}"
    # The marker is committed before the paid call leaves; a create's request
    # (its images) is emptied in the same write: it lives only in this job now.
    taken = Press.objects.filter(pk=press.pk, state=Press.State.PENDING, marker="")
    if not taken.update(marker=marker, sent=timezone.now(), request={}):
        return "settled"  # another job took it meanwhile
    press.marker = marker
    try:
        answer = call(marker)
    except relay.UpstreamError as exc:
        error, maybe_sent = str(exc), exc.maybe_sent
    else:
        # The relay accepted and billed: its answer lives only in this process now.
        durably(lambda: record(answer))
        return "sent"
    if maybe_sent:  # stays pending: reconciled with the relay later
        note = _("Checking with the relay whether it arrived; it is not sent again.")
        durably(lambda: Press.objects.filter(pk=press.pk).update(message=f"{error} {note}"))
        return "unsure"
    durably(lambda: fail(press, error))
    return "failed"


def lineage(press: Press) -> dict:
    """Where the tasks a press starts come from (a create: no parent, its kind)."""
    task = press.task
    if task is None:
        kind = press.custom_id.split(":")[1] if press.custom_id.startswith(CREATE_PREFIX) else ""
        return {
            "parent": None,
            "pressed_custom_id": f"{CREATE_PREFIX}{kind}",
            "pressed_label": kind.title()[:80],
            "pressed_by": press.user,
        }
    if press.custom_id == MODAL_KEY:
        found = {
            "parent": task.parent or task,
            "pressed_custom_id": task.pressed_custom_id,
            "pressed_label": task.pressed_label,
        }
    else:
        label = button_label(task.buttons, press.custom_id)
        found = {"parent": task, "pressed_custom_id": press.custom_id, "pressed_label": label[:80]}
    return {**found, "pressed_by": press.user}


def durably(write, attempts: int = 5):
    """Run a database write that records a paid call, waiting out a blip.

    A dropped connection or a restart would lose what the relay answered
    (the relay billed, the dashboard forgot): reconnect and try again, for
    about 6 s. Inside a transaction a retry cannot help, so the error stands.
    """
    for attempt in range(attempts):
        try:
            return write()
        except (DataError, IntegrityError):
            raise  # the write itself is wrong: trying again cannot help
        except DatabaseError:  # a lost connection (SQLite: "closed database", a ProgrammingError)
            if attempt == attempts - 1 or connection.in_atomic_block:
                raise
            connection.close()
            time.sleep(0.2 * 2**attempt)
    return None  # pragma: no cover - the loop returns or raises


def fail(press: Press, message: str, code: int | None = None) -> Press:
    press.state, press.code, press.message = Press.State.FAILED, code, message
    press.settled = timezone.now()
    press.save(update_fields=["state", "code", "message", "settled"])
    return press


def settle(press: Press, answer: SubmitResult, lineage: dict, prompt: str = "") -> Press:
    """Record what the relay's envelope says, on the press and as tasks."""
    if answer.code in relay.STARTED:
        ids = answer.task_ids
        if not ids:  # e.g. ❤️: accepted, nothing new to watch
            return done(press, answer.code, [], message=answer.description or _("Done."))
        queued = answer.code == Code.QUEUED
        record_children(ids=ids, lineage=lineage, queued=queued, prompt=prompt, note=answer.description)
        message = _("Queued at the relay behind other jobs.") if queued else ""
        return done(press, answer.code, list(ids), message=message)
    if answer.code == Code.EXISTS_OR_MODAL and answer.task_ids:
        return _settle_existing(press, answer, lineage)
    return fail(press, refusal(answer), answer.code)


def _settle_existing(press: Press, answer: SubmitResult, lineage: dict) -> Press:
    """Code 21, both dialects: a new task waiting in MODAL, or the task that already exists."""
    task_id = answer.task_ids[0]
    try:
        found = relay.list_by_condition([task_id]) or [relay.fetch(task_id)]
    except relay.UpstreamError as exc:
        return fail(press, str(exc), answer.code)
    records = [record for record in found if record is not None]
    if records:
        services.task_store(records=records)
    status = records[0].status if records else str(answer.properties.get("status") or "")
    task = record_children(ids=(task_id,), lineage=lineage, status=status or Status.SUBMITTED)[0]
    if task.status == Status.MODAL:
        press.modal_id = task.id
        return done(press, answer.code, [], message=_("This button needs a few more details."))
    return done(press, answer.code, [task.id], message=_("The relay had done this before: here it is."))


def done(press: Press, code: int, child_ids: list[str], message: str = "") -> Press:
    press.state, press.code, press.child_ids, press.message = Press.State.DONE, code, child_ids, message
    press.settled = timezone.now()
    press.save(update_fields=["state", "code", "child_ids", "modal_id", "message", "settled"])
    if press.task_id is not None and press.custom_id != MODAL_KEY:
        mark_used(task_id=press.task_id, custom_id=press.custom_id)
    return press


def mark_used(*, task_id: str, custom_id: str) -> None:
    """Show a button pressed here as used at once, as the relay will on the
    parent's next fetch (which, for a finished parent, may never come).
    services.task_store keeps the mark when a later answer lacks it."""
    with transaction.atomic():
        task = Task.objects.select_for_update().only("buttons").filter(pk=task_id).first()
        buttons = task.buttons if task is not None and isinstance(task.buttons, list) else []
        changed = False
        for button in buttons:
            pressed = isinstance(button, dict) and button.get("customId") == custom_id
            if pressed and str(button.get("style")) != str(USED_STYLE):
                button["style"], changed = USED_STYLE, True
        if changed:
            task.save(update_fields=["buttons"])


def started_action(pressed_custom_id: str) -> str:
    """What a new task is before the relay says: its button's action ("UPSCALE"),
    or a create's kind ("IMAGINE", "BLEND", "DESCRIBE", "SHORTEN", the relay's own names)."""
    if pressed_custom_id.startswith(CREATE_PREFIX):
        return pressed_custom_id.removeprefix(CREATE_PREFIX).upper()[:40]
    return action_of(pressed_custom_id)


def record_children(
    *,
    ids,
    lineage: dict,
    queued: bool = False,
    status: str = Status.SUBMITTED,
    prompt: str = "",
    note: str = "",
) -> list[Task]:
    """Create (or adopt) the tasks a press started, remembering where they came from."""
    now = timezone.now()
    parent: Task | None = lineage["parent"]
    tasks = []
    for task_id in ids:
        task, created = Task.objects.get_or_create(
            id=task_id,
            defaults={
                "status": status,
                # Until the relay's first answer: what its button makes ("UPSCALE"), not "?".
                "action": started_action(lineage.get("pressed_custom_id") or ""),
                "prompt": prompt or (parent.prompt if parent else ""),
                "description": note,
                "submit_time": now,
                "changed_at": now,
                "queued": queued,
                **lineage,
            },
        )
        if not created:
            # Only the fields a press knows about: the poller may be storing the rest.
            changes = {"queued": queued}
            if task.status == Status.MODAL and status != Status.MODAL:
                # A finished form: the task runs again, so the poller must ask.
                # Conditional, so a state the poller stored meanwhile is kept.
                Task.objects.filter(pk=task.pk, status=Status.MODAL).update(
                    status=status, last_fetched=None, changed_at=now
                )
                task.refresh_from_db(fields=["status", "last_fetched", "changed_at"])
            if prompt:
                changes["prompt"] = prompt
            if task.parent_id is None and (parent is None or task.id != parent.id):
                changes.update(lineage)
            for name, value in changes.items():
                setattr(task, name, value)
            task.save(update_fields=list(changes))
        tasks.append(task)
    return tasks


def outcome(press: Press, task: Task, duplicate: bool = False) -> PressOutcome:
    found = Task.objects.for_display().in_bulk(press.child_ids)
    children = [found[i] for i in press.child_ids if i in found]
    modal = Task.objects.filter(pk=press.modal_id).first() if press.modal_id else None
    used = None
    if (
        task is not None
        and press.state == Press.State.DONE
        and press.custom_id != MODAL_KEY
        and (children or modal)
    ):
        used = _used_view(task, press.custom_id)
    return PressOutcome(
        task=task,
        children=children,
        modal=modal,
        message=press.message,
        duplicate=duplicate,
        pending=press.state == Press.State.PENDING,
        press_id=press.pk,
        used_button=used,
    )


def _used_view(task: Task, custom_id: str) -> ButtonView | None:
    for row in button_rows(task.buttons):
        for button in row.buttons:
            if button.custom_id == custom_id:
                return replace(button, used=True)
    return None


def refusal(answer: SubmitResult) -> str:
    description = answer.description or _("The relay refused (code %(code)s).") % {"code": answer.code}
    if answer.code == Code.QUEUE_FULL:
        return _("The relay's queue is full: try again later. (%(d)s)") % {"d": description}
    if answer.code == Code.BANNED_PROMPT:
        word = answer.properties.get("bannedWord") or "?"
        return _("The prompt holds a banned word: “%(word)s”. (%(d)s)") % {"word": word, "d": description}
    return _("The relay refused: %(d)s") % {"d": description}
