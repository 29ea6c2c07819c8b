"""Benchmark: HTML bytes per card on a set's page and bytes per poll answer.

Prints figures; asserts nothing (tests/web/test_page_weight.py holds the bounds).
A throw-away SQLite database, the simulator for realistic tasks, and Django's
test client. Finished cards are grids with nine buttons and an archived image
(with its blurred preview); running cards are IMAGINE jobs at 40 %.

    .venv/bin/python bench/page_weight.py [--sizes 10,100,500]
"""

import argparse
import io
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CARD = re.compile(rb'<article class="card.*?</article>', re.S)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,500")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    workdir = tempfile.mkdtemp(prefix="mjdash-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
    os.environ["MJ_TASK_BACKEND"] = "database"  # archive jobs are queued, never run
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mjdash.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from PIL import Image

    from tasks_app import services
    from tasks_app.images.processing import thumb_build
    from tasks_app.models import Task, TaskImage
    from tasks_app.sets import services as set_services
    from tasks_app.simulator import Simulator

    setup_test_environment()
    logging.disable(logging.INFO)
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.MJ_MAX_IDS = max(settings.MJ_MAX_IDS, max(sizes))
    settings.MJ_FRESHNESS_SECONDS = 3600  # the relay is asked once; polls read the cache
    call_command("migrate", verbosity=0)
    sim = Simulator(api_key="bench", frozen_clock=True).start()
    settings.MJ_API_BASE, settings.MJ_API_KEY = sim.base_url, "bench"
    user = get_user_model().objects.create_superuser("bench", password="bench-pass-123")
    client = Client()
    client.force_login(user)

    picture = io.BytesIO()
    Image.effect_noise((1024, 1024), 64).convert("RGB").save(picture, "PNG")
    _thumb, (tw, th), preview = thumb_build(io.BytesIO(picture.getvalue()), size=512)

    most = max(sizes)
    finished = [
        sim.add_task(prompt=f"a lighthouse at dusk, oil painting, study {i} --ar 1:1", run=1.0, ago=60)
        for i in range(most)
    ]
    running = [
        sim.add_task(prompt=f"a fox in the snow, watercolour {i}", run=600.0, ago=240) for i in range(most)
    ]
    services.task_lookup(ids=finished + running)
    TaskImage.objects.filter(task_id__in=finished).delete()
    TaskImage.objects.bulk_create(
        TaskImage(
            task_id=t.id,
            index=0,
            source_url=t.image_url,
            state=TaskImage.State.OK,
            original=f"o/{t.id}.png",
            thumb=f"t/{t.id}.webp",
            thumb_width=tw,
            thumb_height=th,
            preview=preview,
            sha256="ab" * 32,
            width=1024,
            height=1024,
        )
        for t in Task.objects.filter(pk__in=finished)
    )
    buttons = len(Task.objects.get(pk=finished[0]).buttons)

    print(
        f"finished cards: grid, {buttons} buttons, archived image (preview {len(preview)} B); "
        "running cards: 40 %"
    )
    for kind, ids in (("finished", finished), ("running", running)):
        for n in sizes:
            task_set = set_services.set_save(user=user, ids=ids[:n])
            with CaptureQueriesContext(connection) as queries:
                page = client.get(reverse("set_detail", args=[task_set.slug]))
            cards = CARD.findall(page.content)
            html = page.content
            print(
                f"  {kind:8} N={n:3}: page {len(html):9,} B, {len(cards):3} cards rendered, "
                f"{sum(map(len, cards)) // max(1, len(cards)):5,} B per card, "
                f"{len(html) // max(1, len(cards)):5,} B page/card, "
                f"{html.count(b'<form'):4} forms, {html.count(b'csrfmiddlewaretoken'):4} CSRF inputs, "
                f"{len(queries):3} queries"
            )

    def poll(entries):
        return client.post(reverse("task_poll"), {"ids": ",".join(entries)}, HTTP_HX_REQUEST="true")

    live = Task.objects.in_bulk(running[:100])
    changed = poll([f"{i}:old" for i in running[:100]])
    print(f"  poll, 100 running, all changed:   {len(changed.content):9,} B")
    unchanged = poll([f"{i}:{live[i].card_stamp}" for i in running[:100]])
    print(f"  poll, 100 running, none changed:  {len(unchanged.content):9,} B")
    page_ids = finished[:197] + running[:3]
    three = [f"{i}:{live[i].card_stamp}" for i in running[:3]]
    task_set = set_services.set_save(user=user, ids=page_ids)
    page = client.get(reverse("set_detail", args=[task_set.slug]))
    quiet = poll(three)
    print(
        f"  poll, 200 IDs with 3 running, none changed: {len(quiet.content):,} B "
        f"(page {len(page.content):,} B)"
    )
    one = poll([f"{running[0]}:old"] + three[1:])
    print(f"  poll, 200 IDs with 3 running, 1 changed:    {len(one.content):,} B")
    sim.stop()


if __name__ == "__main__":
    main()
