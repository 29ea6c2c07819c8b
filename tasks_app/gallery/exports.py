"""Exports, streamed: CSV and JSON of any list of tasks, and a set's originals as one ZIP.

Rows are read in chunks (queryset.iterator, or a set's IDs a chunk at a time),
written and handed to the response one chunk at a time, so memory stays flat
however many tasks there are.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.utils.text import slugify

from tasks_app.images import storage
from tasks_app.models import Task, TaskImage

CHUNK = 500
COPY_BYTES = 256 * 1024
CSV_FIELDS = [
    "id",
    "action",
    "status",
    "progress",
    "prompt",
    "prompt_en",
    "final_prompt",
    "submit_time",
    "start_time",
    "finish_time",
    "fail_reason",
    "image_url",
    "parent_id",
]
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def tasks_of_queryset(tasks: QuerySet[Task]) -> Iterator[Task]:
    return tasks.iterator(chunk_size=CHUNK)


def tasks_of_ids(ids: list[str]) -> Iterator[Task]:
    """The cached tasks of these IDs in this order, read CHUNK at a time."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found = Task.objects.in_bulk(chunk)
        yield from (found[i] for i in chunk if i in found)


def neutralise(value) -> str:
    """A cell a spreadsheet shows as text, never runs: a leading ' before =, +, -, @, tab, CR."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    """A file-like object csv.writer writes one row into, read back at once."""

    def write(self, value: str) -> str:
        return value


# UTF-8's byte order mark opens the file: Excel reads a CSV without it in the
# machine's legacy code page, and Chinese prompts come out as mojibake.
BOM = "\ufeff"


def csv_stream(tasks: Iterable[Task]) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield BOM + writer.writerow(CSV_FIELDS)
    for task in tasks:
        yield writer.writerow([neutralise(value) for value in _row(task)])


def json_stream(tasks: Iterable[Task]) -> Iterator[str]:
    """A JSON array of the raw payloads, as the relay sent them."""
    yield "["
    first = True
    for task in tasks:
        yield ("\n" if first else ",\n") + json.dumps(
            task.payload or {"id": task.pk}, cls=DjangoJSONEncoder, ensure_ascii=False
        )
        first = False
    yield "\n]\n"


def _row(task: Task) -> list:
    return [
        task.pk,
        task.action,
        task.status,
        task.progress,
        task.prompt,
        task.prompt_en,
        (task.properties or {}).get("finalPrompt", ""),
        task.submit_time.isoformat() if task.submit_time else "",
        task.start_time.isoformat() if task.start_time else "",
        task.finish_time.isoformat() if task.finish_time else "",
        task.fail_reason,
        task.image_url,
        task.parent_id or "",
    ]


# ---- ZIP ----


class _Buffer:
    """What zipfile writes into: no seek, no tell (zipfile then writes data
    descriptors), drained after each piece so only one piece is in memory."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_entries(ids: list[str]) -> Iterator[tuple[str, str]]:
    """(name in the ZIP, storage name) of every archived original of these tasks, in set order."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        images = TaskImage.objects.filter(task_id__in=chunk, state=TaskImage.State.OK).exclude(original="")
        by_task: dict[str, list[TaskImage]] = {}
        for image in images.select_related("task").order_by("index"):
            by_task.setdefault(image.task_id, []).append(image)
        for task_id in chunk:
            for image in by_task.get(task_id, []):
                yield _zip_name(image), image.original


def _zip_name(image: TaskImage) -> str:
    task = image.task
    slug = slugify(task.prompt_en or task.prompt)[:60].strip("-")
    ext = EXTENSIONS.get(image.content_type, "png")
    stem = f"{task.pk}-{slug}" if slug else task.pk
    return f"{stem}-{image.index}.{ext}" if image.index else f"{stem}.{ext}"


MISSING_NAME = "MISSING.txt"
MISSING_HEAD = (
    "These images could not be read from the archive and are not in this ZIP.\n"
    "以下图片无法从归档读取，未包含在此 ZIP 中。\n\n"
)
GONE = "not in the archive / 归档中不存在"
NO_ANSWER = "the image storage did not answer; download again later / 图片存储没有响应，请稍后重新下载"


def zip_stream(entries: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """A ZIP of these stored files, written as it is sent (stored, not compressed:
    PNGs do not shrink). A file that cannot be read is left out rather than break
    the download, and named with the reason in MISSING.txt, the ZIP's last file."""
    buffer = _Buffer()
    missing: list[tuple[str, str]] = []
    with zipfile.ZipFile(buffer, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for name, stored in entries:
            try:
                source = storage.open(stored)  # one request to a bucket, streamed
            except storage.StorageUnavailable:
                missing.append((name, NO_ANSWER))
                continue
            except OSError:
                missing.append((name, GONE))
                continue
            with source, archive.open(name, mode="w", force_zip64=True) as target:
                while chunk := source.read(COPY_BYTES):
                    target.write(chunk)
                    yield buffer.drain()
            yield buffer.drain()
        if missing:
            lines = "".join(f"{name}: {why}\n" for name, why in missing)
            archive.writestr(MISSING_NAME, MISSING_HEAD + lines)
    yield buffer.drain()
