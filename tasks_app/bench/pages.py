"""Rows 4-5: the results page for N cached tasks, and the poller's answer.

Rendered as production renders it: the bench's process runs the production
profile (DJANGO_DEBUG off, see commands/bench.py), and the cards' images are
archived first (thumbnail, its signed URL and preview, as after the workers ran).
"""

from __future__ import annotations

import time

from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from tasks_app import services
from tasks_app.bench import Result, ms, times
from tasks_app.bench.lookup import new_tasks
from tasks_app.bench.seed import archive_instantly
from tasks_app.models import Task
from tasks_app.sets import services as set_services

ROUNDS = 5


def row_4(sim, client: Client, user, sizes: list[int]) -> list[Result]:
    results = []
    for n in sizes:
        ids = new_tasks(sim, n)
        services.task_lookup(ids=ids)  # cached: the page asks the relay nothing
        archive_instantly(ids)  # cards as they are once the workers have run
        slug = set_services.set_save(user=user, ids=ids).slug
        page = _median_get(client, f"/s/{slug}/")
        html = page["content"]
        wire = client.get(f"/s/{slug}/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        encoding = wire.get("Content-Encoding", "")
        sent = f"{len(wire.content) / 1024:.0f} KB {encoding}" if encoding else "not compressed"
        cards = html.count(b'<article class="card')
        # A large set's page holds its first MJ_SET_PAGE_CARDS cards (the rest
        # come as the viewer scrolls): per card is per card rendered.
        per_card_ms = page["seconds"] / max(1, cards)
        per_card_kb = len(html) / max(1, cards) / 1024
        results.append(
            Result(
                4,
                "results page (production, archived)",
                n,
                f"{page['queries']} queries, {ms(page['seconds'])}, {len(html) / 1024:.0f} KB ({sent}), "
                f"{cards} cards shown "
                f"({per_card_ms * 1000:.2f} ms, {per_card_kb:.1f} KB a card; {html.count(b'<form')} forms)",
                f"{n + page['queries']} queries (one a card)",
                "goal: flat; < 1 ms and 2 KB a card",
                f"{times(per_card_ms, 0.001)} / {times(per_card_kb, 2)} of goal",
                {
                    "queries": page["queries"],
                    "bytes": len(html),
                    "wire_bytes": len(wire.content),
                    "encoding": encoding,
                    "cards": cards,
                    "thumbs": html.count(b"/thumb.webp?v="),
                    "status": page["status"],
                },
            )
        )
    return results


def row_5(sim, client: Client, user, *, n: int = 200, running: int = 3) -> list[Result]:
    """The poller's answer alone: the running tasks were just asked (the window
    is stretched, so a slow machine does not make them due mid-row)."""
    with override_settings(MJ_FRESHNESS_SECONDS=600):
        return _row_5(sim, client, user, n=n, running=running)


def _row_5(sim, client: Client, user, *, n: int, running: int) -> list[Result]:
    ids = new_tasks(sim, n, running=running)
    services.task_lookup(ids=ids)
    slug = set_services.set_save(user=user, ids=ids).slug
    page_bytes = len(client.get(f"/s/{slug}/").content)
    live = list(Task.objects.filter(pk__in=ids[:running]))
    stamps = {task.id: task.card_stamp for task in live}
    results = []
    for changed in (0, 1):
        seen = {task_id: ("0" if k < changed else stamp) for k, (task_id, stamp) in enumerate(stamps.items())}
        body = {"ids": ",".join(f"{i}:{s}" for i, s in seen.items())}
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/tasks/poll", body)
        size = len(response.content)
        results.append(
            Result(
                5,
                f"poll, {running} running, {changed} changed",
                n,
                f"{len(queries)} queries, {size} bytes",
                f"{page_bytes / 1024:.0f} KB (the whole page again)",
                "goal: bytes only for changed cards",
                f"{times(page_bytes, size)} smaller",
                {"queries": len(queries), "bytes": size, "changed": changed, "status": response.status_code},
            )
        )
    return results


def _median_get(client: Client, url: str) -> dict:
    client.get(url)  # warm: templates compiled, caches filled
    runs = []
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as queries:
            begin = time.perf_counter()
            response = client.get(url)
            runs.append((time.perf_counter() - begin, len(queries), response))
    runs.sort(key=lambda run: run[0])
    seconds, count, response = runs[len(runs) // 2]
    return {"seconds": seconds, "queries": count, "content": response.content, "status": response.status_code}
