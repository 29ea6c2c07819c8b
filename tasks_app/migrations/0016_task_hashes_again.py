"""Read every stored task's job hashes again: until this fix, a hash whose first
group held no digit ("deadbeef-...", about one in 2,500) was not taken for one,
so such a task's parent or children were not linked."""

import importlib

from django.db import migrations

hashes_from_payloads = importlib.import_module("tasks_app.migrations.0013_task_hashes").hashes_from_payloads


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0015_image_renditions_recorded"),
    ]

    operations = [
        migrations.RunPython(hashes_from_payloads, migrations.RunPython.noop, elidable=True),
    ]
