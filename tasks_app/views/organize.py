"""Stars and tags on one task (/tasks/<id>/star, /tasks/<id>/tags) and actions on
a selection (/tasks/bulk): parse, call organize/, answer."""

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from tasks_app import selectors
from tasks_app.gallery import exports
from tasks_app.organize import bulk, services
from tasks_app.organize.selectors import cards_mark
from tasks_app.organize.tags import TagError, tag_names_parse
from tasks_app.views.exports import stream_response
from tasks_app.views.http import HtmxHttpRequest, back, safe_next


@require_POST
def task_star(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    """Star ("star" = 1, the default) or unstar ("star" = 0) a task for the person asking."""
    services.tasks_star(user=request.user, ids=[task_id], starred=request.POST.get("star", "1") != "0")
    return _marks_answer(request, task_id)


@require_POST
def task_tags(request: HtmxHttpRequest, task_id: str) -> HttpResponse:
    """Add the tags typed in "tag" (comma separated), or take off the one named in "remove"."""
    error = ""
    try:
        if "remove" in request.POST:
            services.tags_remove(ids=[task_id], names=[request.POST["remove"]])
        else:
            services.tags_add(
                user=request.user, ids=[task_id], names=tag_names_parse(request.POST.get("tag", ""))
            )
    except TagError as exc:
        error = str(exc)
    return _marks_answer(request, task_id, error=error)


def _marks_answer(request: HtmxHttpRequest, task_id: str, *, error: str = "") -> HttpResponse:
    task = selectors.task_for_card(task_id=task_id)
    if task is None:
        raise Http404(_("The dashboard has not stored task %(id)s.") % {"id": task_id})
    if request.htmx:
        cards_mark(tasks=[task], user=request.user)
        response = render(request, "tasks/components.html#marks", {"task": task, "marks_error": error})
        return reswap(retarget(response, f"#marks-{task_id}"), "outerHTML")
    if error:
        messages.error(request, error)
    return redirect(back(request, task_id))


@require_POST
def tasks_bulk(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The selection form of the archive and a set's page: "ids" (the ticked cards),
    "do" (bulk.ACTIONS), "tag", "to_set"/"from_set". Files are sent; the rest goes back."""
    fallback = reverse("task_list")
    where = safe_next(
        request,
        request.POST.get("next", ""),
        safe_next(request, request.headers.get("Referer", ""), fallback),
    )
    action = request.POST.get("do", "")
    try:
        ids = bulk.selection_ids(request.POST.getlist("ids"))
        if action in bulk.FILE_ACTIONS:
            return _selection_file(action, ids)
        set_slug = request.POST.get("from_set" if action == "set_remove" else "to_set", "")
        done = bulk.bulk_apply(
            user=request.user, action=action, ids=ids, tag_text=request.POST.get("tag", ""), set_slug=set_slug
        )
    except bulk.BulkError as exc:
        messages.error(request, str(exc))
        return redirect(where)
    messages.success(request, done.message)
    if done.task_set is not None and action == "set_add":
        return redirect("set_detail", slug=done.task_set.slug)
    return redirect(where)


def _selection_file(action: str, ids: list[str]) -> StreamingHttpResponse:
    if action == "zip":
        response = StreamingHttpResponse(
            exports.zip_stream(exports.zip_entries(ids)), content_type="application/zip"
        )
        response["Content-Disposition"] = 'attachment; filename="mjdash-selection.zip"'
        return response
    return stream_response(exports.tasks_of_ids(ids), action, "mjdash-selection")
