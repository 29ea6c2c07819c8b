"""Use cases behind a task's buttons: press one, finish a MODAL form, cancel.

Every press starts a paid job at the relay, so each path checks permission and
a per-user rate, forwards only a customId the task's cached buttons hold, and
reaches the relay once per button per window however many requests (tabs,
browsers, app processes) arrive at once: the `Press` row decides who submits.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from mjdash.cache import CacheUnavailable
from tasks_app import jobs, relay
from tasks_app.buttons import masks, reconcile
from tasks_app.buttons.custom_ids import find_custom_id
from tasks_app.buttons.permissions import user_can_press
from tasks_app.buttons.presses import MODAL_KEY, PressOutcome, claim, outcome, refusal, wait
from tasks_app.models import Press, Task
from tasks_app.relay import Code, Status
from tasks_app.text import UnsafeText, clean_prompt

logger = logging.getLogger(__name__)


class PressRefused(Exception):
    """The dashboard refuses before asking the relay; `status` is the HTTP answer."""

    status = 400

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class FormInvalid(PressRefused):
    """A MODAL form's field is wrong (the mask, the zoom factor, the prompt): the
    page shows the same form again, with what was typed and this message."""


class NotAllowed(PressRefused):
    status = 403


class UnknownTask(PressRefused):
    status = 404


class PressesPaused(PressRefused):
    status = 503


class TooManyPresses(PressRefused):
    status = 429

    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


def task_press_button(*, task_id: str, custom_id: str, user) -> PressOutcome:
    """Press one of a task's buttons (its customId whole, or short as a card posts
    it); the relay is asked at most once per window."""
    check_allowed(user)
    task = _task(task_id)
    custom_id = find_custom_id(task.buttons, custom_id)
    if custom_id is None:
        raise PressRefused(_("That is not one of this task's buttons."))
    check_rate(user)
    press, owner = claim(task=task, key=custom_id, user=user)
    if owner:
        jobs.urgent(jobs.press_send).enqueue(press.pk)
    elif reconcile.due(press):  # sent by a process that died: ask, never send again
        jobs.urgent(jobs.press_reconcile).enqueue(press.pk)
    return outcome(wait(press, settings.MJ_PRESS_ANSWER_SECONDS), task, duplicate=not owner)


def task_submit_modal(
    *,
    task_id: str,
    user,
    prompt: str = "",
    rects: str = "",
    width=None,
    height=None,
    mask_upload=None,
    zoom=None,
) -> PressOutcome:
    """Finish a task waiting in MODAL: the prompt, for Vary (Region) the mask, and
    for Custom Zoom a zoom factor (1.0 to 2.0), sent as `--zoom N` after the prompt."""
    check_allowed(user)
    task = _task(task_id)
    if task.status != Status.MODAL:
        raise PressRefused(_("Task %(id)s is not waiting for a form.") % {"id": task.id})
    zoom_factor = _zoom(zoom)
    try:
        if mask_upload is not None:
            mask = masks.mask_from_upload(mask_upload)
        elif rects.strip() or task.action == "INPAINT":
            mask = masks.mask_from_rects(rects, size=_image_size(task, width, height))
        else:
            mask = ""
    except masks.MaskError as exc:
        raise FormInvalid(str(exc)) from exc
    try:  # before the paid call: text no database stores would be billed, then a 500
        prompt = clean_prompt(prompt.strip() or str(task.properties.get("finalPrompt") or task.prompt))
    except UnsafeText as exc:
        raise FormInvalid(str(exc)) from exc
    check_rate(user)
    press, owner = claim(task=task, key=MODAL_KEY, user=user)
    if owner:
        if zoom_factor is not None:
            prompt = f"{prompt} --zoom {zoom_factor}"
        jobs.urgent(jobs.press_send).enqueue(press.pk, prompt, mask)
    elif reconcile.due(press):
        jobs.urgent(jobs.press_reconcile).enqueue(press.pk)
    return outcome(wait(press, settings.MJ_PRESS_ANSWER_SECONDS), task, duplicate=not owner)


def _zoom(value) -> str | None:
    """A Custom Zoom factor as typed ("1.5"), checked to lie in 1.0..2.0; None when empty."""
    if value is None or not str(value).strip():
        return None
    try:
        number = float(str(value).strip().replace(",", "."))
    except ValueError:
        number = float("nan")
    if not 1.0 <= number <= 2.0:
        raise FormInvalid(_("The zoom factor must be a number from 1.0 to 2.0."))
    return f"{number:g}"


def task_press_status(*, task_id: str, press_id: int) -> PressOutcome:
    """Where a press of this task stands now (a page asks until it settles)."""
    press = Press.objects.filter(pk=press_id, task_id=task_id).select_related("task").first()
    if press is None:
        raise UnknownTask(_("No such press."))
    return outcome(press, press.task)


def task_cancel(*, task_id: str, user) -> PressOutcome:
    """Abandon an unfinished task (a MODAL form nobody will fill) at the relay."""
    check_allowed(user)
    task = _task(task_id)
    if task.is_final:
        raise PressRefused(_("Task %(id)s has already finished.") % {"id": task.id})
    try:
        answer = relay.cancel(task.id)
    except relay.UpstreamError as exc:
        return PressOutcome(task=task, message=str(exc))
    if answer.code != Code.SUBMITTED:
        return PressOutcome(task=task, message=refusal(answer))
    # Conditional: a task that finished meanwhile keeps its result.
    Task.objects.filter(pk=task.pk).unfinished().update(status=Status.CANCEL, finish_time=timezone.now())
    task.refresh_from_db()
    return PressOutcome(task=task, message=_("Task %(id)s was cancelled.") % {"id": task.id})


# ---- guards -------------------------------------------------------------------


def check_allowed(user) -> None:
    if not user_can_press(user):
        raise NotAllowed(_("You may not press buttons: each press costs money. Ask an admin for access."))


def check_rate(user) -> None:
    count, period = settings.MJ_PRESS_RATE_LIMIT
    bucket = int(time.time() // period)
    key = f"mjdash:press-rate:{user.pk}:{bucket}"
    try:
        cache.add(key, 0, timeout=period + 1)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            used = 1
    except CacheUnavailable:
        # Each press is paid and the rate cannot be counted: refuse, do not guess.
        raise PressesPaused(_("Presses are paused: the cache is unavailable. Try again shortly.")) from None
    if used > count:
        retry = max(1, int(period - time.time() % period))
        raise TooManyPresses(
            _("Too many presses: at most %(rate)s. Try again in %(s)d s.")
            % {"rate": settings.MJ_PRESS_RATE, "s": retry},
            retry_after=retry,
        )


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
