"""/s/<slug>/...: a saved set's live grid, renamed or deleted by its maker."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tasks_app import services
from tasks_app.forms import PasteForm, SetNameForm
from tasks_app.models import TaskSet
from tasks_app.sets import selectors
from tasks_app.sets import services as set_services
from tasks_app.views.http import HtmxHttpRequest, go


def _set_or_404(slug: str) -> TaskSet:
    task_set = selectors.set_by_slug(slug=slug)
    if task_set is None:
        raise Http404(_("No such set."))
    return task_set


def _own_set(request: HtmxHttpRequest, slug: str) -> TaskSet:
    task_set = _set_or_404(slug)
    if task_set.created_by_id != request.user.pk:
        raise PermissionDenied(_("Only the person who made a set may change it."))
    return task_set


@require_GET
def set_detail(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """A set's cards, a page at a time (the next page comes as the person
    scrolls to it); its count and link are the whole set's, with the tasks its
    buttons started."""
    task_set = _set_or_404(slug)
    ids = selectors.set_task_ids(task_set=task_set)
    page = _page_number(request.GET.get("page"), len(ids))
    size = settings.MJ_SET_PAGE_CARDS
    lookup = services.task_lookup(ids=ids[(page - 1) * size : page * size])
    later = len(ids) - page * size
    context = {
        "task_set": task_set,
        "lookup": lookup,
        "total": len(ids),
        "more_url": f"{request.path}?page={page + 1}" if later > 0 else "",
        "more_count": later,
    }
    if request.htmx and page > 1:
        return render(request, "tasks/list.html#page", context)
    context.update(
        form=PasteForm(),
        name_form=SetNameForm(initial={"name": task_set.name}),
        is_owner=task_set.created_by_id == request.user.pk,
        share_url=request.build_absolute_uri(reverse("set_detail", args=[task_set.slug])),
    )
    return render(request, "tasks/set.html", context)


def _page_number(value, count: int) -> int:
    pages = max(1, -(-count // settings.MJ_SET_PAGE_CARDS))
    try:
        return max(1, min(pages, int(value)))
    except (TypeError, ValueError):
        return 1


@require_POST
def set_rename(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    task_set = _own_set(request, slug)
    form = SetNameForm(request.POST)
    if form.is_valid():
        set_services.set_rename(task_set=task_set, name=form.cleaned_data["name"])
        messages.success(request, _("Set renamed."))
    return redirect("set_detail", slug=task_set.slug)


@require_POST
def set_delete(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    task_set = _own_set(request, slug)
    set_services.set_delete(task_set=task_set)
    messages.success(request, _("Set deleted."))
    return go(request, reverse("home"))
