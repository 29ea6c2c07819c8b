from django.core.files.storage import storages
from django.db import migrations, models


def _stem(task_id: str, index: int, digest: str) -> str:
    """images.archive.stem as of this migration (names already stored keep this shape)."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "_-") else "_" for c in task_id)[:64]
    return f"images/{safe}/{index}-{digest[:16]}"


def record_stored_renditions(apps, schema_editor):
    """Serving now trusts these fields instead of asking the storage: record what
    the workers stored before they existed (once, a few checks per archived image)."""
    TaskImage = apps.get_model("tasks_app", "TaskImage")
    store = storages["default"]
    for image in TaskImage.objects.filter(state="ok").exclude(sha256="").iterator():
        stem = _stem(image.task_id, image.index, image.sha256)
        changed = []
        if store.exists(f"{stem}-large.webp"):
            image.large = f"{stem}-large.webp"
            changed.append("large")
        if image.index == 0 and all(store.exists(f"{stem}-q{n}.webp") for n in range(1, 5)):
            image.quadrants = True
            changed.append("quadrants")
        if changed:
            image.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0014_task_preview"),
    ]

    operations = [
        migrations.AddField(
            model_name="taskimage",
            name="large",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="taskimage",
            name="quadrants",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(record_stored_renditions, migrations.RunPython.noop),
    ]
