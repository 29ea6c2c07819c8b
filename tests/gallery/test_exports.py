"""Exports: CSV and JSON of a set, an archive view or a task, streamed; a set's originals as one ZIP."""

import csv
import io
import json
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tasks_app import services
from tasks_app.gallery import exports
from tasks_app.models import TaskImage, TaskSet
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


def _set(user, ids, name=""):
    return TaskSet.objects.create(slug="exp0rtslug", ids=ids, ids_hash="x", created_by=user, name=name)


def test_a_set_exports_as_csv_in_set_order_with_formulas_neutralised(logged_in, user, jobs_held):
    services.task_store(
        records=[
            TaskRecord(id="1764000000000001", status="SUCCESS", prompt='=HYPERLINK("http://evil")'),
            TaskRecord(id="1764000000000002", status="SUCCESS", prompt="+1 -2 @cmd a calm sea"),
            TaskRecord(id="1764000000000003", status="FAILURE", prompt="-rm", fail_reason="\tbanned"),
        ]
    )
    _set(user, ["1764000000000003", "1764000000000001", "1764000000000002"])
    response = logged_in.get("/s/exp0rtslug/export.csv")
    assert response["Content-Disposition"] == 'attachment; filename="exp0rtslug.csv"'
    rows = list(csv.DictReader(io.StringIO(_body(response).decode("utf-8-sig"))))
    assert [row["id"] for row in rows] == ["1764000000000003", "1764000000000001", "1764000000000002"]
    assert rows[1]["prompt"] == '\'=HYPERLINK("http://evil")'
    assert rows[2]["prompt"] == "'+1 -2 @cmd a calm sea"
    assert rows[0]["prompt"] == "'-rm" and rows[0]["fail_reason"] == "'\tbanned"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"], ids=repr)
def test_a_cell_starting_with_each_formula_character_is_escaped(logged_in, user, jobs_held, start):
    text = f"{start}SUM(A1:A9) a calm sea"
    services.task_store(
        records=[TaskRecord(id="1764000000000004", status="FAILURE", prompt=text, fail_reason=text)]
    )
    _set(user, ["1764000000000004"])

    [row] = csv.DictReader(
        io.StringIO(_body(logged_in.get("/s/exp0rtslug/export.csv")).decode("utf-8-sig"), newline="")
    )

    assert row["prompt"] == row["fail_reason"] == "'" + text


def test_a_cell_starting_with_anything_else_is_left_as_written(logged_in, user, jobs_held):
    texts = ["a calm sea", " =not a formula", "'quoted", "1+1", "#hash", "中文 = text"]
    ids = [f"17640000000001{n:02d}" for n in range(len(texts))]
    services.task_store(
        records=[TaskRecord(id=i, status="SUCCESS", prompt=t) for i, t in zip(ids, texts, strict=True)]
    )
    _set(user, ids)

    rows = list(
        csv.DictReader(io.StringIO(_body(logged_in.get("/s/exp0rtslug/export.csv")).decode("utf-8-sig")))
    )

    assert [row["prompt"] for row in rows] == texts


def test_a_csv_opens_in_excel_with_chinese_prompts_intact(logged_in, user, jobs_held):
    services.task_store(records=[TaskRecord(id="1764000000000031", status="SUCCESS", prompt="一只橘猫")])
    body = _body(logged_in.get("/tasks/1764000000000031/export.csv"))
    # UTF-8 with its byte order mark first: how Excel knows the encoding.
    assert body.startswith(b"\xef\xbb\xbfid,") and body.count(b"\xef\xbb\xbf") == 1
    assert "一只橘猫" in body.decode("utf-8-sig")


def test_a_set_exports_as_json_of_the_raw_payloads(logged_in, user, jobs_held):
    raw = {"id": "1764000000000011", "status": "SUCCESS", "botType": "MID_JOURNEY", "extra": {"a": 1}}
    services.task_store(records=[TaskRecord(id="1764000000000011", status="SUCCESS", raw=raw)])
    _set(user, ["1764000000000011", "1000000000000099"], name="Sea studies")
    response = logged_in.get("/s/exp0rtslug/export.json")
    assert response["Content-Disposition"] == 'attachment; filename="sea-studies.json"'
    assert json.loads(_body(response)) == [raw]


def test_a_filtered_archive_view_and_a_single_task_export(logged_in, jobs_held):
    services.task_store(
        records=[
            TaskRecord(id="1764000000000021", status="SUCCESS", prompt="a blue kite"),
            TaskRecord(id="1764000000000022", status="FAILURE", prompt="a blue kite"),
            TaskRecord(id="1764000000000023", status="SUCCESS", prompt="a red boat"),
        ]
    )
    rows = list(
        csv.DictReader(
            io.StringIO(_body(logged_in.get("/tasks/export.csv", {"q": "kite"})).decode("utf-8-sig"))
        )
    )
    assert sorted(row["id"] for row in rows) == ["1764000000000021", "1764000000000022"]
    one = json.loads(_body(logged_in.get("/tasks/1764000000000023/export.json")))
    assert [item["id"] for item in one] == ["1764000000000023"]
    assert logged_in.get("/tasks/1764000000000023/export.xml").status_code == 404
    assert logged_in.get("/tasks/1000000000000099/export.csv").status_code == 404


def test_the_export_reads_the_tasks_in_chunks_not_all_at_once(jobs_held, django_assert_max_num_queries):
    ids = [str(1765000000000000 + i) for i in range(exports.CHUNK * 3)]
    services.task_store(records=[TaskRecord(id=i, status="SUCCESS", prompt="p") for i in ids])
    with django_assert_max_num_queries(3):
        lines = sum(1 for _ in exports.csv_stream(exports.tasks_of_ids(ids)))
    assert lines == len(ids) + 1


def test_a_sets_originals_download_as_one_streamed_zip_named_after_the_set(logged_in, user, jobs_held):
    services.task_store(
        records=[
            TaskRecord(
                id="1764000000000031",
                status="SUCCESS",
                prompt="A Lighthouse, at dusk!",
                image_url="https://c/1.png",
            ),
            TaskRecord(id="1764000000000032", status="SUCCESS", prompt="fox", image_url="https://c/2.png"),
            TaskRecord(id="1764000000000033", status="IN_PROGRESS", prompt="not yet"),
        ]
    )
    for task_id, data in (
        ("1764000000000031", b"\x89PNG one"),
        ("1764000000000032", b"\x89PNG two" * 100_000),
    ):
        name = default_storage.save(f"originals/{task_id}.png", ContentFile(data))
        TaskImage.objects.update_or_create(
            task_id=task_id,
            index=0,
            defaults={
                "state": "ok",
                "original": name,
                "content_type": "image/png",
                "source_url": "https://c/x.png",
            },
        )
    _set(user, ["1764000000000032", "1764000000000033", "1764000000000031"], name="Night shots")
    response = logged_in.get("/s/exp0rtslug/images.zip")
    assert response["Content-Disposition"] == 'attachment; filename="night-shots.zip"'
    pieces = list(response.streaming_content)
    assert len(pieces) > 2  # sent as it is written
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert archive.namelist() == ["1764000000000032-fox.png", "1764000000000031-a-lighthouse-at-dusk.png"]
    assert archive.read("1764000000000031-a-lighthouse-at-dusk.png") == b"\x89PNG one"
    assert archive.testzip() is None


def test_an_original_gone_from_storage_is_named_in_the_zips_missing_file(logged_in, user, jobs_held):
    ids = ["1764000000000041", "1764000000000042"]
    services.task_store(
        records=[TaskRecord(id=i, status="SUCCESS", prompt="kept", image_url="https://c/1.png") for i in ids]
    )
    for task_id in ids:
        name = default_storage.save(f"originals/{task_id}.png", ContentFile(b"\x89PNG " + task_id.encode()))
        TaskImage.objects.update_or_create(
            task_id=task_id,
            index=0,
            defaults={
                "state": "ok",
                "original": name,
                "content_type": "image/png",
                "source_url": "https://c/x",
            },
        )
    default_storage.delete(TaskImage.objects.get(task_id=ids[0]).original)  # lost by hand, say
    _set(user, ids, name="Half there")

    response = logged_in.get("/s/exp0rtslug/images.zip")

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == [f"{ids[1]}-kept.png", "MISSING.txt"]
    missing = archive.read("MISSING.txt").decode()
    assert f"{ids[0]}-kept.png: not in the archive / 归档中不存在" in missing.splitlines()
    assert ids[1] not in missing
