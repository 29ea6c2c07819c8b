"""/s/<slug>/...: a saved set's live grid; renamed, added to, deleted and restored."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tasks_app import lookups, services
from tasks_app.forms import PasteForm, SetNameForm
from tasks_app.models import TaskSet
from tasks_app.organize import selectors as organize
from tasks_app.organize.selectors import cards_mark
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
    buttons started. A deleted set's link says so and offers its restore."""
    task_set = selectors.set_by_slug_any(slug=slug)
    if task_set is None:
        raise Http404(_("No such set."))
    if task_set.is_deleted:
        return render(request, "tasks/set_deleted.html", {"task_set": task_set}, status=410)
    ids = selectors.set_task_ids(task_set=task_set)
    page = _page_number(request.GET.get("page"), len(ids))
    size = settings.MJ_SET_PAGE_CARDS
    shown = ids[(page - 1) * size : page * size]
    lookup = lookups.task_view(ids=shown)
    cards_mark(tasks=lookup.tasks, user=request.user)
    later = len(ids) - page * size
    context = {
        "task_set": task_set,
        "lookup": lookup,
        "total": len(ids),
        "more_url": f"{request.path}?page={page + 1}" if later > 0 else "",
        "more_count": later,
        "selectable": True,
    }
    if request.htmx and page > 1:
        return render(request, "tasks/list.html#page", context)
    if lookup.error is None:
        # Every ID the relay does not know, not only those of the cards shown.
        lookup.not_found += services.tasks_unknown(ids=ids, asked=shown)
    set_services.set_visit(user=request.user, task_set=task_set)
    set_services.set_name_default(task_set=task_set, tasks=lookup.tasks)
    is_owner = task_set.created_by_id == request.user.pk
    context.update(
        form=PasteForm(),
        name_form=SetNameForm(initial={"name": task_set.name}),
        add_form=PasteForm(auto_id="add_%s"),
        is_owner=is_owner,
        own_sets=organize.sets_own(user=request.user),
        tag_counts=organize.tag_counts(),
        purge_days=settings.MJ_SET_PURGE_DAYS,
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
def set_add(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Paste more IDs into a set after it was made (its maker only)."""
    task_set = _own_set(request, slug)
    form = PasteForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("ids", []):
            messages.error(request, error)
        return redirect("set_detail", slug=task_set.slug)
    added, left_out = set_services.set_add(task_set=task_set, ids=form.cleaned_data["ids"].ids)
    text = ngettext("%(n)d task added.", "%(n)d tasks added.", added) % {"n": added}
    left_out += form.left_out
    if left_out:
        text += " " + _("%(n)d did not fit: a set holds at most %(max)d.") % {
            "n": left_out,
            "max": settings.MJ_MAX_IDS,
        }
    messages.success(request, text)
    return redirect("set_detail", slug=task_set.slug)


@require_POST
def set_delete(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Delete a set (its maker only, after a confirmation on its page); undone by set_restore."""
    task_set = _own_set(request, slug)
    set_services.set_delete(task_set=task_set, user=request.user)
    messages.success(
        request,
        _("Set “%(name)s” deleted. It can be restored from your home page or its link for %(days)d days.")
        % {"name": task_set.title, "days": settings.MJ_SET_PURGE_DAYS},
    )
    return go(request, reverse("home"))


@require_POST
def set_restore(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Undo a delete. Anyone the link was shared with may: it loses nothing, and a
    teammate's link must not die by its maker's misclick."""
    task_set = selectors.set_by_slug_any(slug=slug)
    if task_set is None:
        raise Http404(_("No such set."))
    if task_set.is_deleted:
        set_services.set_restore(task_set=task_set)
        messages.success(request, _("Set “%(name)s” restored.") % {"name": task_set.title})
    return redirect("set_detail", slug=task_set.slug)
