"""/ and /tasks/...: the paste form, a set of tasks, one task, the poller, refresh."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh, push_url, reswap, retarget

from tasks_app import lookups, relay, selectors, services
from tasks_app.forms import ArchiveFilterForm, PasteForm
from tasks_app.gallery import selectors as gallery
from tasks_app.ids import ParsedIds
from tasks_app.lineage import selectors as lineage
from tasks_app.organize import selectors as organize
from tasks_app.organize.selectors import cards_mark
from tasks_app.sets import selectors as set_selectors
from tasks_app.sets import services as set_services
from tasks_app.views.http import HtmxHttpRequest, back, go

# An old /tasks/?ids= link with more IDs than this is saved as a set and redirected to it.
LONG_LINK_IDS = 50
RECENT_SETS = 10


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    recent_sets = set_selectors.sets_recent(user=request.user, limit=RECENT_SETS)
    recent = set_selectors.tasks_of_sets(sets=recent_sets, limit=settings.MJ_RECENT_TASKS)
    cards_mark(tasks=recent, user=request.user)
    context = {
        "form": PasteForm(),
        "recent": recent,
        "recent_sets": recent_sets,
        "deleted_sets": set_selectors.sets_deleted(user=request.user),
    }
    return render(request, "tasks/home.html", context)


@require_http_methods(["GET", "POST"])
def task_list(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _paste(request)
    if "ids" not in request.GET:
        return _archive(request)
    form = PasteForm(request.GET)
    if not form.is_valid():
        return _paste_errors(request, form)
    parsed: ParsedIds = form.cleaned_data["ids"]
    if len(parsed.ids) > LONG_LINK_IDS or form.left_out:
        # A long link becomes a saved set with a short address.
        return _save_and_go(request, parsed, form.left_out)
    canonical = task_list_url(parsed.ids)
    if request.GET["ids"] != ",".join(parsed.ids) and not request.htmx:
        # Keep the address short and shareable; say what was left out.
        if parsed.rejected or parsed.duplicates:
            messages.warning(request, _paste_notice(parsed))
        return redirect(canonical)
    set_services.set_save(user=request.user, ids=parsed.ids)  # for the home page's recent sets
    lookup = lookups.task_view(ids=parsed.ids)
    cards_mark(tasks=lookup.tasks, user=request.user)
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
def task_detail(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    lookup = lookups.task_view(ids=[task_id])
    task = lookup.tasks[0] if lookup.tasks else None
    if task is None and lookup.error is None and not lookup.pending:
        raise Http404(_("The relay does not know task %(id)s.") % {"id": task_id})
    return detail_render(request, task, task_id=task_id, lookup=lookup)


def detail_render(request, task, *, task_id: str, lookup=None, status: int = 200, **extra) -> HttpResponse:
    """The detail page of a task already read (a MODAL form sent back with its error uses it too)."""
    children = selectors.task_children(task=task) if task else []
    relatives = selectors.task_relatives(task=task) if task else []
    cards_mark(tasks=[task, *children], user=request.user)
    context = {
        "task": task,
        "task_id": task_id,
        "lookup": lookup,
        "children": children,
        "relatives": relatives,
        "tag_counts": organize.tag_counts() if task else [],
        "family": lineage.task_family(task=task) if task else None,
    }
    return render(request, "tasks/detail.html", {**context, **extra}, status=status)


@require_http_methods(["GET", "POST"])
def task_poll(request: HtmxHttpRequest) -> HttpResponse:
    """The page's one poller: the cards that changed (out of band) and itself again.

    Pages post their IDs (a page of 500 unfinished cards is no longer URL);
    GET still answers pages loaded before that. Answers 286, which stops htmx
    polling, once nothing on the page is unfinished.
    """
    data = request.POST if request.method == "POST" else request.GET
    seen = _seen(data.get("ids", ""))
    poll = services.task_poll(seen=seen, failures=_small_int(data.get("failures")))
    main_id = data.get("main", "")
    cards_mark(tasks=poll.changed, user=request.user)
    context = {
        "poll": poll,
        "lookup": poll.lookup,
        "main": next((task for task in poll.lookup.tasks if task.id == main_id), None),
        "main_id": main_id if main_id in poll.lookup.pending else "",  # still being looked up
        "retry_in": round(poll.interval) if poll.failures else 0,
    }
    response = render(
        request, "tasks/poll.html", context, status=200 if poll.live or poll.lookup.pending else 286
    )
    arrived = seen.get(main_id) == "" and (context["main"] or main_id in poll.lookup.not_found)
    if arrived or any(task.id == main_id and task.is_final for task in poll.changed):
        # The detail page of a task that just finished, or was just looked up:
        # its image and buttons belong to the whole page, so reload it.
        response["HX-Refresh"] = "true"
    return response


@require_POST
def task_refresh(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    """Ask the relay again now, even for a final task; back to where the person was."""
    lookup = lookups.task_view(ids=[task_id], force=True)
    if request.htmx and lookup.tasks and not lookup.error:
        # The card's one form aims at its press-result slot: this answer is the whole card.
        response = render(request, "tasks/components.html#card", {"task": lookup.tasks[0], "lookup": lookup})
        return reswap(retarget(response, f"#task-{task_id}"), "outerHTML")
    if lookup.error:
        messages.error(request, str(lookup.error))
    if request.htmx:
        return HttpResponseClientRefresh()  # the message shows on the reloaded page
    return redirect(back(request, task_id))


def task_list_url(ids: list[str]) -> str:
    return reverse("task_list") + "?" + urlencode({"ids": ",".join(ids)}, safe=",")


def _archive(request: HtmxHttpRequest) -> HttpResponse:
    """Every task the dashboard has seen, newest first, filtered by the URL, by keyset pages."""
    facets = organize.archive_facets(user=request.user)
    form = ArchiveFilterForm(request.GET, facets=facets)
    filters = form.filters()
    page = gallery.archive_page(filters=filters, user=request.user, before=request.GET.get("before", ""))
    cards_mark(tasks=page.tasks, user=request.user)
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "filter_form": form,
        "filters": filters,
        "page": page,
        "query": query.urlencode(),
        "next_query": _with(query, before=page.next_cursor) if page.next_cursor else "",
        "is_later_page": bool(request.GET.get("before")),
        "selectable": True,
        "own_sets": facets.own_sets,
    }
    return render(request, "tasks/archive.html", context)


def _with(query, **extra) -> str:
    query = query.copy()
    for key, value in extra.items():
        query[key] = value
    return query.urlencode()


def _paste(request: HtmxHttpRequest) -> HttpResponse:
    """A paste: keep only its IDs, as a set, and go to the set's page."""
    form = PasteForm(request.POST)
    if not form.is_valid():
        return _paste_errors(request, form)
    return _save_and_go(request, form.cleaned_data["ids"], form.left_out)


def _paste_errors(request: HtmxHttpRequest, form: PasteForm) -> HttpResponse:
    context = {"form": form, "parsed": form.parsed}
    template = "tasks/home.html#paste_errors" if request.htmx else "tasks/home.html"
    # htmx swaps only 2xx answers; a plain request gets a real 400.
    return render(request, template, context, status=200 if request.htmx else 400)


def _save_and_go(request: HtmxHttpRequest, parsed: ParsedIds, left_out: int) -> HttpResponse:
    task_set = set_services.set_save(user=request.user, ids=parsed.ids)
    # Counts only: the pasted text (a curl command with a key) never reaches the
    # message store, a URL or a log.
    notice = _count_notice(parsed, left_out)
    if notice:
        messages.warning(request, notice)
    return go(request, reverse("set_detail", args=[task_set.slug]))


def _count_notice(parsed: ParsedIds, left_out: int) -> str:
    parts = []
    if left_out:
        parts.append(
            _("The first %(limit)d IDs were taken; %(count)d more were left out.")
            % {"limit": settings.MJ_MAX_IDS, "count": left_out}
        )
    if parsed.rejected:
        parts.append(
            _("%(count)d token(s) were not task IDs and were skipped.") % {"count": len(parsed.rejected)}
        )
    if parsed.duplicates:
        parts.append(_("%(count)d duplicate(s) removed.") % {"count": parsed.duplicates})
    return " ".join(parts)


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


def _seen(text: str) -> dict[str, str]:
    """The poller's "id:stamp,id:stamp" list; malformed entries are dropped."""
    seen: dict[str, str] = {}
    for entry in text.split(",")[: settings.MJ_MAX_IDS]:
        task_id, _sep, stamp = entry.strip().partition(":")
        if relay.is_task_id(task_id):
            seen[task_id] = stamp[:16]
    return seen


def _small_int(value, limit: int = 16) -> int:
    try:
        return max(0, min(limit, int(value)))
    except (TypeError, ValueError):
        return 0
