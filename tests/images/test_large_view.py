"""Issue 12, point 3: the detail page's large view. A worker builds a large
rendition beside the thumbnail; the page shows it (never the 512 px thumbnail
stretched) and offers the task's family to step through."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from tasks_app import services
from tasks_app.images.archive import large_name
from tasks_app.models import Task, TaskImage

pytestmark = pytest.mark.django_db


def _finished(simulator, prompt="a lighthouse at dusk", **extra):
    task_id = simulator.add_task(prompt=prompt, run=1.0, **extra)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    return task_id


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_worker_builds_a_large_rendition_and_the_detail_page_shows_it(logged_in, simulator):
    task_id = _finished(simulator)
    image = TaskImage.objects.get(task_id=task_id, index=0)

    response = logged_in.get(f"/tasks/{task_id}/large.webp")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert "attachment" not in response.get("Content-Disposition", "")
    body = _body(response)
    large = Image.open(io.BytesIO(body))
    assert large.format == "WEBP" and large.size == (image.width, image.height) == (2048, 2048)
    assert len(body) < image.bytes  # lighter than the archived original
    html = logged_in.get(f"/tasks/{task_id}/").content.decode()
    figure = html.split('class="detail-figure"', 1)[1].split('class="quadrants"', 1)[0]
    assert f'src="/tasks/{task_id}/large.webp"' in figure
    assert 'width="2048" height="2048"' in figure
    assert f'href="/tasks/{task_id}/large.webp" data-lightbox' in figure


def test_an_image_archived_before_large_renditions_shows_its_original_until_rebuilt(logged_in, simulator):
    task_id = _finished(simulator)
    image = TaskImage.objects.get(task_id=task_id, index=0)
    default_storage.delete(large_name(image))  # as archived by an older worker...
    TaskImage.objects.filter(pk=image.pk).update(large="")  # ...and recorded by migration 0015
    simulator.reset_counters()

    response = logged_in.get(f"/tasks/{task_id}/large.webp")

    assert response.status_code == 200
    assert response["Content-Type"] == image.content_type  # the original, inline
    assert response["Cache-Control"] == "private, no-cache"  # not kept once the rendition exists
    assert "attachment" not in response.get("Content-Disposition", "")
    assert _body(response) == default_storage.open(image.original).read()
    assert not default_storage.exists(large_name(image))  # nothing built inside a request
    assert simulator.calls["image"] == 0

    call_command("archive_images", "--rebuild", stdout=io.StringIO())

    assert default_storage.exists(large_name(image))
    rebuilt = logged_in.get(f"/tasks/{task_id}/large.webp")
    assert rebuilt["Content-Type"] == "image/webp"
    assert rebuilt["Cache-Control"] == "private, max-age=31536000, immutable"


def test_the_detail_page_offers_the_parent_siblings_and_children_to_step_through(logged_in, simulator):
    grid = _finished(simulator, prompt="a grid")
    upscale, sibling, child = (
        _finished(simulator, prompt=f"relative {n}", action="UPSCALE") for n in range(3)
    )
    Task.objects.filter(pk__in=[upscale, sibling]).update(parent_id=grid)
    Task.objects.filter(pk=child).update(parent_id=upscale)

    html = logged_in.get(f"/tasks/{upscale}/").content.decode()

    family = html.split('class="family"', 1)[1].split("</nav>", 1)[0]
    for relative in (grid, sibling, child):
        assert f'href="/tasks/{relative}/large.webp" data-lightbox data-detail="/tasks/{relative}/"' in family
    assert f"/tasks/{upscale}/large.webp" not in family  # itself is the big image above
    assert 'id="lightbox"' in html and "js/lightbox.js" in html
