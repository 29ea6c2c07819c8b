"""Thin views: parse the request, call a service, render a template.

An htmx request gets only the partial it targets; everything works without
JavaScript too.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_htmx.http import push_url

from tasks_app import services
from tasks_app.forms import PasteForm
from tasks_app.ids import ID_RE, ParsedIds

RECENT_SESSION_KEY = "recent_task_ids"


@require_GET
def home(request):
    recent_ids = request.session.get(RECENT_SESSION_KEY, [])
    return render(
        request,
        "tasks/home.html",
        {"form": PasteForm(), "recent": services.tasks_in_order(ids=recent_ids)},
    )


@require_GET
def task_list(request):
    if "ids" not in request.GET:
        return redirect("home")
    form = PasteForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "parsed": form.parsed}
        template = "tasks/home.html#paste_errors" if request.htmx else "tasks/home.html"
        # htmx swaps only 2xx answers; a plain request gets a real 400.
        return render(request, template, context, status=200 if request.htmx else 400)
    parsed: ParsedIds = form.cleaned_data["ids"]
    canonical = task_list_url(parsed.ids)
    if request.GET["ids"] != ",".join(parsed.ids) and not request.htmx:
        # Keep the address short and shareable; say what was left out.
        if parsed.rejected or parsed.duplicates:
            messages.warning(request, _paste_notice(parsed))
        return redirect(canonical)
    lookup = services.task_lookup(ids=parsed.ids)
    _remember(request, parsed.ids)
    context = {
        "form": PasteForm(initial={"ids": "\n".join(parsed.ids)}),
        "lookup": lookup,
        "parsed": parsed,
        "notice": _paste_notice(parsed) if request.htmx else "",
    }
    if request.htmx:
        return push_url(render(request, "tasks/list.html#results", context), canonical)
    return render(request, "tasks/list.html", context)


@require_GET
def task_detail(request, task_id):
    if not ID_RE.match(task_id):
        raise Http404(_("That is not a task ID."))
    lookup = services.task_lookup(ids=[task_id])
    _remember(request, [task_id])
    task = lookup.tasks[0] if lookup.tasks else None
    if task is None and lookup.error is None:
        raise Http404(_("The relay does not know task %(id)s.") % {"id": task_id})
    return render(request, "tasks/detail.html", {"task": task, "task_id": task_id, "lookup": lookup})


@login_not_required
def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def task_list_url(ids: list[str]) -> str:
    return reverse("task_list") + "?" + urlencode({"ids": ",".join(ids)}, safe=",")


def _paste_notice(parsed: ParsedIds) -> str:
    parts = []
    if parsed.rejected:
        rejected = "; ".join(f"“{token}”: {reason}" for token, reason in parsed.rejected[:20])
        more = len(parsed.rejected) - 20
        parts.append(
            _("Rejected %(count)d token(s): %(list)s") % {"count": len(parsed.rejected), "list": rejected}
        )
        if more > 0:
            parts.append(_("and %(more)d more") % {"more": more})
    if parsed.duplicates:
        parts.append(_("%(count)d duplicate(s) removed") % {"count": parsed.duplicates})
    return ". ".join(parts)


def _remember(request, ids: list[str]) -> None:
    recent = [i for i in request.session.get(RECENT_SESSION_KEY, []) if i not in ids]
    request.session[RECENT_SESSION_KEY] = (list(ids) + recent)[: settings.MJ_RECENT_TASKS]
