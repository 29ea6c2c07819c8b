"""`archive_images --rebuild` on a damaged archive, on the file system and on a
bucket: an original that is gone, larger than MJ_IMAGE_MAX_BYTES or not an image
is named and skipped unread past the cap; every other image is rebuilt."""

import io

import pytest
from django.core.management import call_command

from tasks_app import services
from tasks_app.images import storage
from tasks_app.images.archive import large_name
from tasks_app.models import TaskImage

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["filesystem", "bucket"])
def store(request):
    if request.param == "bucket":
        request.getfixturevalue("bucket")
    return request.param


def _grid(simulator, prompt):
    task_id = simulator.add_task(prompt=prompt, run=1.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[task_id])
    return TaskImage.objects.get(task_id=task_id, index=0)


def test_a_rebuild_skips_each_unreadable_original_by_name_and_rebuilds_the_rest(simulator, store, settings):
    # The largest grid grows past the cap; the others' originals are within it.
    gone, broken, fine, big = sorted(
        (_grid(simulator, f"picture {n}") for n in range(4)), key=lambda i: i.bytes
    )
    settings.MJ_IMAGE_MAX_BYTES = big.bytes + 100
    storage.delete(gone.original)
    with storage.open(big.original) as original:
        storage.save(big.original, original.read() + b"\0" * 200)
    storage.save(broken.original, b"this is not a picture")
    TaskImage.objects.filter(index=0).update(large="", quadrants=False)
    out, err = io.StringIO(), io.StringIO()

    call_command("archive_images", "--rebuild", stdout=out, stderr=err)

    rebuilt = TaskImage.objects.get(pk=fine.pk)
    assert rebuilt.large == large_name(rebuilt) and rebuilt.quadrants
    assert set(
        TaskImage.objects.filter(pk__in=[gone.pk, big.pk, broken.pk]).values_list("large", flat=True)
    ) == {""}
    lines = err.getvalue().splitlines()
    assert len(lines) == 3
    for image in (gone, big, broken):
        assert sum(f"image {image.task_id}#0: not rebuilt" in line for line in lines) == 1
    assert f"image {big.task_id}#0: not rebuilt: too_large" in err.getvalue()
    total = TaskImage.objects.filter(state=TaskImage.State.OK).count()
    assert f"rebuilt {total - 3}, skipped 3" in out.getvalue()
