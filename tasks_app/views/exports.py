"""Exports: .../export.csv and .../export.json of the archive (as filtered), a set or a task; a set's ZIP."""

from collections.abc import Iterable, Iterator

from django.http import Http404, StreamingHttpResponse
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from tasks_app.forms import ArchiveFilterForm
from tasks_app.gallery import exports
from tasks_app.gallery import selectors as gallery
from tasks_app.models import Task, TaskSet
from tasks_app.sets import selectors as set_selectors
from tasks_app.views.http import HtmxHttpRequest

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json; charset=utf-8"}


@require_GET
def archive_export(request: HtmxHttpRequest, fmt: str) -> StreamingHttpResponse:
    filters = ArchiveFilterForm(request.GET).filters()
    tasks = exports.tasks_of_queryset(gallery.archive_tasks(filters=filters, user=request.user))
    return stream_response(tasks, fmt, "mjdash-tasks")


@require_GET
def set_export(request: HtmxHttpRequest, slug: str, fmt: str) -> StreamingHttpResponse:
    task_set = _set(slug)
    ids = set_selectors.set_task_ids(task_set=task_set)  # with the tasks its buttons started
    return stream_response(exports.tasks_of_ids(ids), fmt, _set_file_stem(task_set))


@require_GET
def task_export(request: HtmxHttpRequest, task_id: str, fmt: str) -> StreamingHttpResponse:
    if not Task.objects.filter(pk=task_id).exists():
        raise Http404(task_id)
    return stream_response(exports.tasks_of_ids([task_id]), fmt, task_id)


@require_GET
def set_zip(request: HtmxHttpRequest, slug: str) -> StreamingHttpResponse:
    task_set = _set(slug)
    ids = set_selectors.set_task_ids(task_set=task_set)
    entries = exports.zip_entries(ids)
    response = StreamingHttpResponse(exports.zip_stream(entries), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{_set_file_stem(task_set)}.zip"'
    return response


def _set(slug: str) -> TaskSet:
    task_set = set_selectors.set_by_slug(slug=slug)
    if task_set is None:
        raise Http404(slug)
    return task_set


def _set_file_stem(task_set: TaskSet) -> str:
    return slugify(task_set.name)[:60].strip("-") or task_set.slug


def stream_response(tasks: Iterable[Task], fmt: str, stem: str) -> StreamingHttpResponse:
    """The tasks as a CSV or JSON download named `stem`.`fmt`, streamed."""
    if fmt not in CONTENT_TYPES:
        raise Http404(fmt)
    body: Iterator[str] = exports.csv_stream(tasks) if fmt == "csv" else exports.json_stream(tasks)
    response = StreamingHttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response
