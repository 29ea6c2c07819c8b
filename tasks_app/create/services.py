"""Use cases of the Create page: start an imagine, blend, describe or shorten, or run a task again.

Every create starts a paid job, so it goes the way a button press goes: the
same permission and per-user rate (buttons/services.py), and a `Press` row
without a task, keyed by what is sent, so a double click, a second tab or a
retry after a timeout reaches the relay once (buttons/presses.py), with a
marker in `state` that reconciles a submit whose answer was lost
(buttons/reconcile.py). Everything is checked before anything is sent: the
prompt and its parameters, the number of images, each image (create/uploads.py).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from tasks_app import jobs
from tasks_app.buttons import reconcile
from tasks_app.buttons.presses import CREATE_PREFIX, PressOutcome, claim, outcome, wait
from tasks_app.buttons.services import FormInvalid, PressRefused, UnknownTask, check_allowed, check_rate
from tasks_app.create import params
from tasks_app.create.results import result_prompt
from tasks_app.create.uploads import Reference, UploadError, reference_clean
from tasks_app.models import Press, Task
from tasks_app.text import UnsafeText, clean_prompt

KINDS = ("imagine", "blend", "describe", "shorten")
IMAGE_COUNTS = {"imagine": (0, 5), "blend": (2, 5), "describe": (1, 1), "shorten": (0, 0)}
DIMENSIONS = ("PORTRAIT", "SQUARE", "LANDSCAPE")
MAX_PROMPT = 4000
AGAIN_ACTIONS = {"IMAGINE": "imagine", "SHORTEN": "shorten"}


def create_submit(
    *, user, kind: str, prompt: str = "", controls: dict | None = None, uploads=(), dimensions: str = ""
) -> PressOutcome:
    """Check everything, then start one job at the relay (once per identical submit per window)."""
    check_allowed(user)
    if kind not in KINDS:
        raise PressRefused(_("Unknown kind of job."))
    prompt = _prompt(kind, prompt, controls or {})
    references = _references(kind, uploads)
    if kind == "blend" and dimensions not in DIMENSIONS:
        raise FormInvalid(_("Choose the blend's shape: portrait, square or landscape."))
    check_rate(user)
    request = {
        "kind": kind,
        "prompt": prompt,
        "images": [reference.data_url for reference in references],
        "dimensions": dimensions if kind == "blend" else "",
        "bot": "NIJI_JOURNEY" if params.parse(prompt).get("niji") is not None else "MID_JOURNEY",
        "lang": translation.get_language() or settings.LANGUAGE_CODE,
    }
    seen = [kind, prompt, [reference.sha256 for reference in references], request["dimensions"]]
    digest = hashlib.sha256(json.dumps(seen).encode()).hexdigest()[:32]
    press, owner = claim(task=None, key=f"{CREATE_PREFIX}{kind}:{user.pk}:{digest}", user=user)
    if owner:
        Press.objects.filter(pk=press.pk).update(prompt=prompt or kind, request=request)
        jobs.urgent(jobs.create_send).enqueue(press.pk)
    elif reconcile.due(press):  # sent by a process that died: ask, never send again
        jobs.urgent(jobs.press_reconcile).enqueue(press.pk)
    return outcome(wait(press, settings.MJ_PRESS_ANSWER_SECONDS), None, duplicate=not owner)


def create_again(*, user, task_id: str) -> PressOutcome:
    """Run a task's job again: the same prompt, its reference images as the relay
    wrote them into the prompt (their URLs), the same kind (imagine or shorten)."""
    check_allowed(user)
    task = Task.objects.filter(pk=task_id).first()
    if task is None:
        raise UnknownTask(_("Task %(id)s is not in the dashboard's cache.") % {"id": task_id})
    kind = AGAIN_ACTIONS.get(task.action)
    if kind is None or not task.prompt.strip():
        raise PressRefused(_("Only an imagine or a shorten with a prompt can run again."))
    return create_submit(user=user, kind=kind, prompt=again_prompt(task))


def create_status(*, user, press_id: int) -> PressOutcome:
    """Where one of this person's creates stands (a page asks until it settles)."""
    press = Press.objects.filter(pk=press_id, task__isnull=True, user=user).first()
    if press is None:
        raise UnknownTask(_("No such submit."))
    return outcome(press, None)


def again_prompt(task: Task) -> str:
    """The task's prompt, led by the reference image URLs the relay put before it."""
    prompt = task.prompt.strip()
    words = (task.prompt_en or "").split()
    urls = []
    for word in words:
        if not word.startswith(("https://", "http://")):
            break
        urls.append(word)
    missing = [url for url in urls if url not in prompt]
    return " ".join([*missing, prompt])


def prompt_from(*, task_id: str = "", pick: int = 0, press_id: int = 0, user=None) -> str:
    """A prompt to start from: a task's, one numbered prompt of a DESCRIBE or SHORTEN, or a past submit's."""
    if press_id and user is not None:
        press = Press.objects.filter(pk=press_id, task__isnull=True, user=user).only("prompt").first()
        return press.prompt if press else ""
    task = Task.objects.filter(pk=task_id).first() if task_id else None
    if task is None:
        return ""
    if pick:
        return result_prompt(task, pick)
    return again_prompt(task) if task.action != "DESCRIBE" else ""


def _prompt(kind: str, prompt: str, controls: dict) -> str:
    if kind in ("blend", "describe"):
        return ""
    try:
        # A control left empty leaves the prompt's own parameter: without
        # JavaScript the controls cannot have followed what was typed.
        prompt = clean_prompt(params.apply(prompt, controls, clear_unset=False))
    except params.ParamError as exc:
        raise FormInvalid(str(exc)) from exc
    except UnsafeText as exc:
        raise FormInvalid(str(exc)) from exc
    if not params.parse(prompt).text and kind == "shorten" or not prompt.strip():
        raise FormInvalid(_("Write a prompt first."))
    if len(prompt) > MAX_PROMPT:
        raise FormInvalid(_("The prompt is too long: at most %(n)d characters.") % {"n": MAX_PROMPT})
    return prompt


def _references(kind: str, uploads) -> list[Reference]:
    low, high = IMAGE_COUNTS[kind]
    uploads = [upload for upload in uploads if upload is not None and upload.size]
    if not low <= len(uploads) <= high:
        if low == high:
            message = _("Add exactly one image.") if high == 1 else _("This kind takes no image.")
        else:
            message = _("Add %(low)d to %(high)d images (you gave %(n)d).") % {
                "low": low,
                "high": high,
                "n": len(uploads),
            }
        raise FormInvalid(message)
    try:
        return [reference_clean(upload) for upload in uploads]
    except UploadError as exc:
        raise FormInvalid(str(exc)) from exc
