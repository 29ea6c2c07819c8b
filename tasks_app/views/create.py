"""/create/...: the Create page (imagine, blend, describe, shorten), its parameter
controls, a submit's status, and "Run again" from any task.

Thin: parse, call create/services, answer. Only people who may press may
create (403 for everyone else, on every route). A submit posts the whole form
(multipart, works without JavaScript) and is redirected to the page, where its
card is live at the top of "Created"; a form the dashboard refuses, or a job
the relay refuses at once, comes back with the message and what was typed.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tasks_app.buttons import services as buttons
from tasks_app.buttons.permissions import user_can_press
from tasks_app.buttons.presses import PressOutcome
from tasks_app.create import params, selectors, services, uploads
from tasks_app.views.http import HtmxHttpRequest, back

RESULT = "create/page.html#create_result"


def press_required(view):
    """Creating starts paid jobs: the same permission as pressing a button, else 403."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not user_can_press(request.user):
            message = _("You may not start jobs: each one costs money. Ask an admin for access.")
            context = {"message": message, "back": reverse("home")}
            return render(request, "tasks/refused.html", context, status=403)
        return view(request, *args, **kwargs)

    return guarded


@require_http_methods(["GET", "POST"])
@press_required
def create(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _submit(request)
    if request.htmx and request.htmx.target == "history":
        return render(request, "create/page.html#history", _history(request))
    kind = request.GET.get("kind", "")
    source = request.GET.get("from", "")
    prompt = request.GET.get("prompt", "")[: services.MAX_PROMPT] or services.prompt_from(
        task_id=source if source.isdigit() else "",
        pick=_small_int(request.GET.get("pick")),
        press_id=_small_int(request.GET.get("press"), limit=2**62),
        user=request.user,
    )
    if kind not in services.KINDS:
        kind = "shorten" if request.GET.get("shorten") else "imagine"
    vary = source if request.GET.get("vary") and prompt else ""
    return _page(request, kind=kind, prompt=prompt, vary=vary)


@require_POST
@press_required
def create_params(request: HtmxHttpRequest) -> HttpResponse:
    """The parameter controls and the prompt kept in step (create/params.py, the one parser):
    a changed control rewrites the prompt; a typed prompt sets the controls."""
    prompt = request.POST.get("prompt", "")[: services.MAX_PROMPT]
    if request.POST.get("changed") != "controls":
        context = {"controls": params.controls(prompt), **_choices()}
        return render(request, "create/page.html#controls", context)
    values = {name: request.POST.get(name, "") for name in params.CONTROLS}
    try:
        prompt = params.apply(prompt, values)
        error = ""
    except params.ParamError as exc:
        error = str(exc)
    context = {"prompt": prompt, "params_error": error, "kind": "imagine"}
    return render(request, "create/page.html#prompt_box", context)


@require_GET
@press_required
def create_status(request: HtmxHttpRequest, press_id: int) -> HttpResponse:
    """Where a submit stands: what the page asks until the relay has answered."""
    try:
        outcome = services.create_status(user=request.user, press_id=press_id)
    except buttons.PressRefused as refused:
        return render(request, RESULT, {"error": refused.message}, status=refused.status)
    # A card's "Run again" line asks in=card; the Create page's pending list otherwise.
    template = RESULT if request.GET.get("in") == "card" else "create/page.html#pending_item"
    return render(request, template, {"outcome": outcome, "press_id": press_id})


@require_POST
@press_required
def create_again(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    """Run a task's job again (its prompt and references), from its card or its page."""
    try:
        outcome = services.create_again(user=request.user, task_id=task_id)
    except buttons.PressRefused as refused:
        if request.htmx:
            response = render(request, RESULT, {"error": refused.message}, status=refused.status)
            return _refused(response, refused)
        messages.error(request, refused.message)
        return redirect(back(request, task_id))
    if request.htmx:
        return render(request, RESULT, {"outcome": outcome})
    return _went(request, outcome, kind="imagine")


def _submit(request: HtmxHttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    prompt = request.POST.get("prompt", "")
    try:
        outcome = services.create_submit(
            user=request.user,
            kind=kind,
            prompt=prompt,
            controls={name: request.POST[name] for name in params.CONTROLS if name in request.POST},
            uploads=request.FILES.getlist("images"),
            dimensions=request.POST.get("dimensions", ""),
        )
    except buttons.FormInvalid as invalid:
        return _page(request, kind=kind, prompt=prompt, error=invalid.message, status=400)
    except buttons.PressRefused as refused:
        response = _page(request, kind=kind, prompt=prompt, error=refused.message, status=refused.status)
        return _refused(response, refused)
    if not outcome.ok:  # the relay refused at once (a banned word, a full queue): the prompt stays
        return _page(request, kind=kind, prompt=prompt, error=outcome.message, status=400)
    return _went(request, outcome, kind=kind)


def _went(request: HtmxHttpRequest, outcome: PressOutcome, *, kind: str) -> HttpResponse:
    """After a submit: back to the page (its new card is live at the top of "Created")."""
    if outcome.modal is not None:
        messages.info(request, outcome.message)
        return redirect(reverse("task_detail", args=[outcome.modal.id]))
    if outcome.children:
        ids = ", ".join(child.id for child in outcome.children)
        lead = _("Already submitted moments ago:") if outcome.duplicate else _("Started:")
        messages.success(request, f"{lead} {ids} {outcome.message}".strip())
    elif outcome.message:
        messages.info(request, outcome.message)
    return redirect(reverse("create") + f"?kind={kind if kind in services.KINDS else 'imagine'}#created")


def _page(request, *, kind: str, prompt: str = "", vary: str = "", error: str = "", status: int = 200):
    kind = kind if kind in services.KINDS else "imagine"
    created = selectors.created_tasks(user=request.user)
    low, high = services.IMAGE_COUNTS[kind]
    context = {
        "kind": kind,
        "kinds": services.KINDS,
        "prompt": prompt,
        "controls": params.controls(prompt),
        "vary": vary,
        "error": error,
        "created": created,
        "pending": selectors.creates_pending(user=request.user),
        "dimensions": request.POST.get("dimensions") or "SQUARE",
        "images_min": low,
        "images_max": high,
        "upload_max": uploads.upload_limit(),
        "accept": uploads.ACCEPT,
        **_history(request),
        **_choices(),
    }
    return render(request, "create/page.html", context, status=status)


def _history(request) -> dict:
    query = request.GET.get("q", "")[:200]
    return {"history": selectors.prompt_history(user=request.user, query=query), "query": query}


def _choices() -> dict:
    return {"aspects": params.ASPECTS, "versions": params.VERSIONS, "qualities": params.QUALITIES}


def _refused(response: HttpResponse, refused: buttons.PressRefused) -> HttpResponse:
    if isinstance(refused, buttons.TooManyPresses):
        response["Retry-After"] = str(refused.retry_after)
    return response


def _small_int(value, limit: int = 5) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= limit else 0
