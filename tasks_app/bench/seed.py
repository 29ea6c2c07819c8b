"""Many finished tasks in the database at once (bulk insert), for the benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import F

from tasks_app.models import Task, TaskImage

PREFIX = "977"  # far from the simulator's IDs, so the seeded tasks are told apart
WORDS = [
    "lighthouse",
    "harbour",
    "fox",
    "kite",
    "storm",
    "dusk",
    "forest",
    "river",
    "castle",
    "neon",
    "desert",
    "cat",
]


def seed(count: int) -> None:
    """Up to `count` finished tasks, each with an archived image row (IDs 9770000000000000 + n)."""
    have = Task.objects.filter(pk__startswith=PREFIX).count()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    batch = []
    images = []
    for n in range(have, count):
        task_id = str(9770000000000000 + n)
        words = " ".join(WORDS[(n * 7 + k) % len(WORDS)] for k in range(3))
        status = "FAILURE" if n % 50 == 0 else "SUCCESS"
        payload = {
            "id": task_id,
            "status": status,
            "prompt": f"a {words}",
            "properties": {"finalPrompt": f"a {words}"},
        }
        batch.append(
            Task(
                id=task_id,
                action="IMAGINE" if n % 3 else "UPSCALE",
                status=status,
                progress=100,
                prompt=f"a {words} #{n}",
                prompt_en=f"a {words}",
                image_url=f"https://cdn.example/{task_id}.png",
                submit_time=base + timedelta(seconds=n),
                finish_time=base + timedelta(seconds=n + 40),
                properties={"finalPrompt": f"a {words}"},
                payload=payload,
                last_fetched=base,
                changed_at=base,
            )
        )
        images.append(
            TaskImage(
                task_id=task_id,
                index=0,
                source_url=f"https://cdn.example/{task_id}.png",
                state="ok",
                original=f"originals/{task_id}.png",
                sha256="ab" * 32,
                thumb=f"thumbs/{task_id}.webp",
                thumb_width=512,
                thumb_height=512,
                content_type="image/png",
            )
        )
        if len(batch) == 2000:
            Task.objects.bulk_create(batch)
            TaskImage.objects.bulk_create(images)
            batch, images = [], []
    Task.objects.bulk_create(batch)
    TaskImage.objects.bulk_create(images)
    # first_seen is auto_now_add: spread it so "newest first" has an order to keep
    Task.objects.filter(pk__startswith=PREFIX).update(first_seen=F("submit_time"))


def archive_instantly(ids: list[str]) -> int:
    """Give these finished tasks archived image rows, as the workers leave them: one
    real thumbnail (of the simulator's grid, with its preview) on disk, shared by
    every row, so that cards carry their signed thumbnail URL and preview without
    N downloads. The rows the lookup's jobs would write are replaced."""
    import hashlib
    import io

    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from tasks_app.images.processing import thumb_build
    from tasks_app.simulator.images import render

    original = render(20260401, None, "grid")
    thumb, (width, height), preview = thumb_build(io.BytesIO(original), size=settings.MJ_THUMB_SIZE)
    digest = hashlib.sha256(original).hexdigest()
    thumb_name = default_storage.save("images/bench/shared-thumb.webp", ContentFile(thumb))
    original_name = default_storage.save("images/bench/shared.png", ContentFile(original))
    TaskImage.objects.filter(task_id__in=ids).delete()
    rows = [
        TaskImage(
            task_id=task.pk,
            index=index,
            source_url=url,
            state=TaskImage.State.OK,
            original=original_name,
            bytes=len(original),
            sha256=digest,
            width=2048,
            height=2048,
            content_type="image/png",
            thumb=thumb_name,
            thumb_width=width,
            thumb_height=height,
            preview=preview,
        )
        for task in Task.objects.filter(pk__in=ids)
        for index, url in task.image_sources
    ]
    TaskImage.objects.bulk_create(rows, batch_size=500)
    return len(rows)
