"""Progress previews: a running task's preview imageUrl is fetched by a job through
the guarded download, shown on its card, replaced as progress moves, and never
taken for the final image."""

import io
from pathlib import Path

import pytest
from PIL import Image

from tasks_app import services
from tasks_app.models import Task, TaskImage

pytestmark = pytest.mark.django_db


def _files(settings, folder):
    root = Path(settings.MEDIA_ROOT) / folder
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_a_running_tasks_preview_is_kept_replaced_as_it_moves_and_never_archived(
    simulator, settings, logged_in
):
    task_id = simulator.add_task(prompt="a slow glacier", queued=0.0, run=100.0)
    simulator.clock.advance(40)  # about 38%: the relay's 25% preview
    services.task_lookup(ids=[task_id])

    task = Task.objects.get(pk=task_id)
    assert task.status == "IN_PROGRESS" and "_p25" in task.preview_source
    first = _files(settings, "previews")
    assert len(first) == 1 and task.preview == f"previews/{first[0]}"
    card = logged_in.get(f"/tasks/?ids={task_id}").content.decode()
    assert f'src="/tasks/{task_id}/preview.webp?v=' in card and "preview 3" in card  # "preview 38%"
    served = logged_in.get(f"/tasks/{task_id}/preview.webp")
    assert served["Content-Type"] == "image/webp"
    assert Image.open(io.BytesIO(b"".join(served.streaming_content))).format == "WEBP"

    simulator.reset_counters()
    services.task_lookup(ids=[task_id])  # the same preview: not fetched again
    assert simulator.calls["image"] == 0
    simulator.clock.advance(30)  # about 68%: the 50% preview replaces it
    services.task_lookup(ids=[task_id])
    task.refresh_from_db()
    assert "_p50" in task.preview_source and simulator.calls["image"] == 1
    assert _files(settings, "previews") != first and len(_files(settings, "previews")) == 1

    assert not TaskImage.objects.filter(task_id=task_id).exists()  # a preview is never archived
    simulator.clock.advance(60)
    services.task_lookup(ids=[task_id])
    images = list(TaskImage.objects.filter(task_id=task_id).values_list("source_url", flat=True))
    assert images and not [url for url in images if any(f"_p{n}." in url for n in (25, 50, 75))]
    card = logged_in.get(f"/tasks/?ids={task_id}").content.decode()
    assert "preview.webp" not in card and "thumb.webp" in card


def test_a_preview_at_a_refused_address_is_never_fetched(simulator, settings, logged_in):
    settings.MJ_IMAGE_ALLOW_LOOPBACK = False  # the simulator's previews are on loopback
    task_id = simulator.add_task(prompt="a slow glacier", queued=0.0, run=100.0)
    simulator.clock.advance(40)
    simulator.reset_counters()
    services.task_lookup(ids=[task_id])

    assert simulator.calls["image"] == 0
    assert Task.objects.get(pk=task_id).preview == ""
    assert _files(settings, "previews") == []
    assert "preview.webp" not in logged_in.get(f"/tasks/?ids={task_id}").content.decode()
    assert logged_in.get(f"/tasks/{task_id}/preview.webp").status_code == 404


def test_a_preview_too_large_is_refused(simulator, settings):
    settings.MJ_IMAGE_MAX_BYTES = 1000
    task_id = simulator.add_task(prompt="big", queued=0.0, run=100.0)
    simulator.clock.advance(40)
    services.task_lookup(ids=[task_id])

    assert Task.objects.get(pk=task_id).preview == ""


def test_the_preview_needs_a_login(client, simulator):
    task_id = simulator.add_task(prompt="a slow glacier", queued=0.0, run=100.0)
    simulator.clock.advance(40)
    services.task_lookup(ids=[task_id])

    assert client.get(f"/tasks/{task_id}/preview.webp").status_code == 302
