"""/tasks/<id>/action, /modal, /cancel: press a button, finish a MODAL form, cancel.

Thin: parse the POST, call buttons.services, answer. htmx gets a status line
for the pressed card plus the new cards out of band (into #task-grid); a plain
form post is redirected to what the press made, or answered with the refusal.
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tasks_app import selectors
from tasks_app.buttons import services as buttons
from tasks_app.buttons.presses import PressOutcome
from tasks_app.relay import Status
from tasks_app.views.http import HtmxHttpRequest, back, go
from tasks_app.views.tasks import detail_render, task_list_url


@require_POST
def task_action(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    try:
        outcome = buttons.task_press_button(
            task_id=task_id, custom_id=request.POST.get("custom_id", ""), user=request.user
        )
    except buttons.PressRefused as refused:
        return _refused(request, refused, task_id)
    return _answer(request, outcome)


@require_POST
def task_modal(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    try:
        outcome = buttons.task_submit_modal(
            task_id=task_id,
            user=request.user,
            prompt=request.POST.get("prompt", ""),
            rects=request.POST.get("rects", ""),
            width=request.POST.get("width"),
            height=request.POST.get("height"),
            mask_upload=request.FILES.get("mask"),
            zoom=request.POST.get("zoom"),
        )
    except buttons.FormInvalid as invalid:
        return _modal_again(request, invalid, task_id)
    except buttons.PressRefused as refused:
        return _refused(request, refused, task_id)
    return _answer(request, outcome)


def _modal_again(request: HtmxHttpRequest, invalid: buttons.FormInvalid, task_id: str) -> HttpResponse:
    """The same form, with what was typed and the error in place (not a dead end),
    read from the cache: the relay is not asked anything."""
    task = selectors.task_for_card(task_id=task_id)
    values = {name: request.POST.get(name, "") for name in ("prompt", "rects", "width", "height", "zoom")}
    return detail_render(
        request,
        task,
        task_id=task_id,
        status=invalid.status,
        modal_error=invalid.message,
        modal_values=values,
    )


@require_GET
def task_press_status(request: HtmxHttpRequest, task_id: str, press_id: int) -> HttpResponse:
    """Where a press stands: what a "sent" answer asks for until the relay has answered."""
    try:
        outcome = buttons.task_press_status(task_id=task_id, press_id=press_id)
    except buttons.PressRefused as refused:
        return _refused(request, refused, task_id)
    return _answer(request, outcome)


@require_POST
def task_cancel(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    try:
        outcome = buttons.task_cancel(task_id=task_id, user=request.user)
    except buttons.PressRefused as refused:
        return _refused(request, refused, task_id)
    level = messages.SUCCESS if outcome.task.status == Status.CANCEL else messages.ERROR
    messages.add_message(request, level, outcome.message)
    parent_id = outcome.task.parent_id
    return go(request, reverse("task_detail", args=[parent_id or outcome.task.id]))


def _answer(request: HtmxHttpRequest, outcome: PressOutcome) -> HttpResponse:
    if outcome.modal is not None:
        messages.info(request, outcome.message)
        return go(request, reverse("task_detail", args=[outcome.modal.id]))
    if request.htmx:
        return render(request, "tasks/components.html#press_result", {"outcome": outcome})
    if outcome.pending:
        messages.info(request, outcome.message)
        return redirect(back(request, outcome.task.id))
    if not outcome.children:
        messages.error(request, outcome.message)
        return redirect(back(request, outcome.task.id))
    if outcome.message:
        messages.info(request, outcome.message)
    ids = [child.id for child in outcome.children]
    return redirect(reverse("task_detail", args=ids) if len(ids) == 1 else task_list_url(ids))


def _refused(request: HtmxHttpRequest, refused: buttons.PressRefused, task_id: str) -> HttpResponse:
    template = "tasks/components.html#press_result" if request.htmx else "tasks/refused.html"
    context = {"message": refused.message, "task_id": task_id, "back": back(request, task_id)}
    response = render(request, template, context, status=refused.status)
    if isinstance(refused, buttons.TooManyPresses):
        response["Retry-After"] = str(refused.retry_after)
    return response
