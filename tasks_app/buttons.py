"""Use cases behind a task's buttons: press one, finish a MODAL form, cancel.

Every press starts a paid job at the relay, so each path checks permission and
a per-user rate, forwards only a customId the task's cached buttons hold, and
reaches the relay once per button per window however many requests (tabs,
browsers, app processes) arrive at once: the `Press` row decides who submits.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app import masks, services, upstream
from tasks_app.button_rows import button_label
from tasks_app.models import Press, Task
from tasks_app.upstream import SubmitResult, UpstreamError

logger = logging.getLogger(__name__)

PERMISSION = "tasks_app.press_button"
MODAL_KEY = "::modal"  # the Press key of a MODAL form's submit
STARTED = (1, 22)
RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


class PressRefused(Exception):
    """The dashboard refuses before asking the relay; `status` is the HTTP answer."""

    status = 400

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class NotAllowed(PressRefused):
    status = 403


class UnknownTask(PressRefused):
    status = 404


class TooManyPresses(PressRefused):
    status = 429

    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


@dataclass
class PressOutcome:
    """What a press led to: new (or existing) children, a MODAL form to fill, or a message."""

    task: Task
    children: list[Task] = field(default_factory=list)
    modal: Task | None = None
    message: str = ""
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.children or self.modal)


def user_can_press(user) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_staff or user.has_perm(PERMISSION)))


def task_press_button(*, task_id: str, custom_id: str, user) -> PressOutcome:
    """Press one of a task's buttons; the relay is asked at most once per window."""
    _check_allowed(user)
    task = _task(task_id)
    buttons = task.buttons if isinstance(task.buttons, list) else []
    if not custom_id or custom_id not in {b.get("customId") for b in buttons if isinstance(b, dict)}:
        raise PressRefused(_("That is not one of this task's buttons."))
    label = button_label(buttons, custom_id)
    _check_rate(user)
    press, owner = _claim(task=task, key=custom_id, user=user)
    if not owner:
        return _outcome(_wait(press), task, duplicate=True)
    try:
        answer = upstream.submit_action(task.id, custom_id, notify_hook=services.notify_hook_url())
    except UpstreamError as exc:
        return _outcome(_fail(press, str(exc)), task)
    lineage = {
        "parent": task,
        "pressed_by": user,
        "pressed_custom_id": custom_id,
        "pressed_label": label[:80],
    }
    return _outcome(_settle(press, answer, lineage), task)


def task_submit_modal(
    *, task_id: str, user, prompt: str = "", rects: str = "", width=None, height=None, mask_upload=None
) -> PressOutcome:
    """Finish a task waiting in MODAL: the prompt, and for Vary (Region) the mask."""
    _check_allowed(user)
    task = _task(task_id)
    if task.status != "MODAL":
        raise PressRefused(_("Task %(id)s is not waiting for a form.") % {"id": task.id})
    try:
        if mask_upload is not None:
            mask = masks.mask_from_upload(mask_upload)
        elif rects.strip() or task.action == "INPAINT":
            mask = masks.mask_from_rects(rects, size=_image_size(task, width, height))
        else:
            mask = ""
    except masks.MaskError as exc:
        raise PressRefused(str(exc)) from exc
    _check_rate(user)
    press, owner = _claim(task=task, key=MODAL_KEY, user=user)
    if not owner:
        return _outcome(_wait(press), task, duplicate=True)
    prompt = prompt.strip() or task.properties.get("finalPrompt") or task.prompt
    try:
        answer = upstream.submit_modal(
            task.id, prompt=prompt, mask_base64=mask, notify_hook=services.notify_hook_url()
        )
    except UpstreamError as exc:
        return _outcome(_fail(press, str(exc)), task)
    lineage = {
        "parent": task.parent or task,
        "pressed_by": user,
        "pressed_custom_id": task.pressed_custom_id,
        "pressed_label": task.pressed_label,
    }
    return _outcome(_settle(press, answer, lineage, prompt=prompt), task)


def task_cancel(*, task_id: str, user) -> PressOutcome:
    """Abandon an unfinished task (a MODAL form nobody will fill) at the relay."""
    _check_allowed(user)
    task = _task(task_id)
    if task.is_final:
        raise PressRefused(_("Task %(id)s has already finished.") % {"id": task.id})
    try:
        answer = upstream.cancel(task.id)
    except UpstreamError as exc:
        return PressOutcome(task=task, message=str(exc))
    if answer.code != 1:
        return PressOutcome(task=task, message=_refusal(answer))
    # Conditional: a task that finished meanwhile keeps its result.
    Task.objects.filter(pk=task.pk).unfinished().update(status="CANCEL", finish_time=timezone.now())
    task.refresh_from_db()
    return PressOutcome(task=task, message=_("Task %(id)s was cancelled.") % {"id": task.id})


def task_children(*, task: Task) -> list[Task]:
    return list(task.children.for_display().order_by("-first_seen"))


# ---- guards -------------------------------------------------------------------


def _check_allowed(user) -> None:
    if not user_can_press(user):
        raise NotAllowed(_("You may not press buttons: each press costs money. Ask an admin for access."))


def _check_rate(user) -> None:
    count, period = _rate()
    bucket = int(time.time() // period)
    key = f"mjdash:press-rate:{user.pk}:{bucket}"
    cache.add(key, 0, timeout=period + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        used = 1
    if used > count:
        retry = max(1, int(period - time.time() % period))
        raise TooManyPresses(
            _("Too many presses: at most %(rate)s. Try again in %(s)d s.")
            % {"rate": settings.MJ_PRESS_RATE, "s": retry},
            retry_after=retry,
        )


def _rate() -> tuple[int, int]:
    count, _sep, unit = str(settings.MJ_PRESS_RATE).partition("/")
    try:
        return max(1, int(count)), RATE_UNITS.get(unit.strip().lower(), 60)
    except ValueError:
        return 20, 60


def _image_size(task: Task, width, height) -> tuple[int, int]:
    """The edited image's size: as archived when it is, else as the form says."""
    image = task.parent.main_image if task.parent else None
    if image is not None and image.is_ok and image.width and image.height:
        return image.width, image.height
    return masks.image_size(width, height)


def _task(task_id: str) -> Task:
    task = Task.objects.filter(pk=task_id).first()
    if task is None:
        raise UnknownTask(_("Task %(id)s is not in the dashboard's cache.") % {"id": task_id})
    return task


# ---- one submit per window --------------------------------------------------------


def _pending_limit() -> float:
    """How long a press may stay pending: the window, or a submit's longest wait."""
    attempt = settings.MJ_CONNECT_TIMEOUT + settings.MJ_READ_TIMEOUT
    return max(settings.MJ_PRESS_WINDOW_SECONDS, attempt * (settings.MJ_RETRIES + 1) + 5)


def _claim(*, task: Task, key: str, user) -> tuple[Press, bool]:
    """(press, True) when this request must submit; (press, False) when another does or did."""
    now = timezone.now()
    with transaction.atomic():
        press, created = Press.objects.select_for_update().get_or_create(
            task=task, custom_id=key, defaults={"created": now, "user": user}
        )
        if created:
            return press, True
        age = (now - press.created).total_seconds()
        if press.state == Press.State.DONE and age < settings.MJ_PRESS_WINDOW_SECONDS:
            return press, False
        if press.state == Press.State.PENDING and age < _pending_limit():
            return press, False
        press.created, press.user, press.state = now, user, Press.State.PENDING
        press.code, press.child_ids, press.modal_id, press.message = None, [], "", ""
        press.save()
        return press, True


def _wait(press: Press) -> Press:
    """Wait for the request that owns this press to finish, then share its outcome."""
    deadline = press.created + timedelta(seconds=_pending_limit())
    while press.state == Press.State.PENDING and timezone.now() < deadline:
        time.sleep(0.05)
        press.refresh_from_db()
    if press.state == Press.State.PENDING:
        press.message = _("This button is still being submitted; look again in a moment.")
    return press


def _fail(press: Press, message: str, code: int | None = None) -> Press:
    press.state, press.code, press.message = Press.State.FAILED, code, message
    press.save(update_fields=["state", "code", "message"])
    return press


def _settle(press: Press, answer: SubmitResult, lineage: dict, prompt: str = "") -> Press:
    """Record what the relay's envelope says, on the press and as tasks."""
    if answer.code in STARTED:
        ids = answer.task_ids
        if not ids:  # e.g. ❤️: accepted, nothing new to watch
            return _done(press, answer.code, [], message=answer.description or _("Done."))
        queued = answer.code == 22
        _record_children(ids=ids, lineage=lineage, queued=queued, prompt=prompt, note=answer.description)
        message = _("Queued at the relay behind other jobs.") if queued else ""
        return _done(press, answer.code, list(ids), message=message)
    if answer.code == 21 and answer.task_ids:
        return _settle_existing(press, answer, lineage)
    return _fail(press, _refusal(answer), answer.code)


def _settle_existing(press: Press, answer: SubmitResult, lineage: dict) -> Press:
    """Code 21, both dialects: a new task waiting in MODAL, or the task that already exists."""
    task_id = answer.task_ids[0]
    try:
        found = upstream.list_by_condition([task_id]) or [upstream.fetch(task_id)]
    except UpstreamError as exc:
        return _fail(press, str(exc), answer.code)
    records = [record for record in found if record is not None]
    if records:
        services.task_store(records=records)
    status = records[0].status if records else str(answer.properties.get("status") or "")
    task = _record_children(ids=(task_id,), lineage=lineage, status=status or "SUBMITTED")[0]
    if task.status == "MODAL":
        press.modal_id = task.id
        return _done(press, answer.code, [], message=_("This button needs a few more details."))
    return _done(press, answer.code, [task.id], message=_("The relay had done this before: here it is."))


def _done(press: Press, code: int, child_ids: list[str], message: str = "") -> Press:
    press.state, press.code, press.child_ids, press.message = Press.State.DONE, code, child_ids, message
    press.save(update_fields=["state", "code", "child_ids", "modal_id", "message"])
    return press


def _record_children(
    *, ids, lineage: dict, queued: bool = False, status: str = "SUBMITTED", prompt: str = "", note: str = ""
) -> list[Task]:
    """Create (or adopt) the tasks a press started, remembering where they came from."""
    now = timezone.now()
    parent: Task = lineage["parent"]
    tasks = []
    for task_id in ids:
        task, created = Task.objects.get_or_create(
            id=task_id,
            defaults={
                "status": status,
                "prompt": prompt or parent.prompt,
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
            if task.status == "MODAL" and status != "MODAL":
                # A finished form: the task runs again, so the poller must ask.
                # Conditional, so a state the poller stored meanwhile is kept.
                Task.objects.filter(pk=task.pk, status="MODAL").update(
                    status=status, last_fetched=None, changed_at=now
                )
                task.refresh_from_db(fields=["status", "last_fetched", "changed_at"])
            if prompt:
                changes["prompt"] = prompt
            if task.parent_id is None and task.id != parent.id:
                changes.update(lineage)
            for name, value in changes.items():
                setattr(task, name, value)
            task.save(update_fields=list(changes))
        tasks.append(task)
    return tasks


def _outcome(press: Press, task: Task, duplicate: bool = False) -> PressOutcome:
    found = Task.objects.for_display().in_bulk(press.child_ids)
    children = [found[i] for i in press.child_ids if i in found]
    modal = Task.objects.filter(pk=press.modal_id).first() if press.modal_id else None
    return PressOutcome(task=task, children=children, modal=modal, message=press.message, duplicate=duplicate)


def _refusal(answer: SubmitResult) -> str:
    description = answer.description or _("The relay refused (code %(code)s).") % {"code": answer.code}
    if answer.code == 23:
        return _("The relay's queue is full: try again later. (%(d)s)") % {"d": description}
    if answer.code == 24:
        word = answer.properties.get("bannedWord") or "?"
        return _("The prompt holds a banned word: “%(word)s”. (%(d)s)") % {"word": word, "d": description}
    return _("The relay refused: %(d)s") % {"d": description}
