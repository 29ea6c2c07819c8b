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
