"""The job's part of a create: send it to the relay once and record the new task.

The request (with its cleaned images) is read from the press and emptied as
the submit leaves (buttons/presses.py:deliver); the answer is recorded in the
language of the person who pressed, so a refusal reads in their words.
"""

from __future__ import annotations

from django.utils import translation

from tasks_app import relay, services
from tasks_app.buttons import presses
from tasks_app.models import Press


def create_send(press_id: int) -> str:
    press = (
        Press.objects.select_related("user")
        .filter(pk=press_id, task__isnull=True, state=Press.State.PENDING)
        .first()
    )
    if press is None:
        return "settled"
    request = press.request or {}
    with translation.override(request.get("lang") or None):
        if not press.marker and request.get("kind") not in SUBMITS:
            presses.durably(lambda: presses.fail(press, "nothing to send"))
            return "failed"
        hook = services.notify_hook_url()

        def call(marker: str):
            return SUBMITS[request["kind"]](request, hook=hook, marker=marker)

        def record(answer):
            presses.settle(press, answer, presses.lineage(press), prompt=request.get("prompt") or "")

        return presses.deliver(press, call, record)


def _imagine(request: dict, *, hook: str, marker: str):
    return relay.submit_imagine(
        request["prompt"], images=request["images"], bot_type=request["bot"], notify_hook=hook, state=marker
    )


def _blend(request: dict, *, hook: str, marker: str):
    return relay.submit_blend(
        request["images"],
        dimensions=request["dimensions"],
        bot_type=request["bot"],
        notify_hook=hook,
        state=marker,
    )


def _describe(request: dict, *, hook: str, marker: str):
    return relay.submit_describe(
        request["images"][0], bot_type=request["bot"], notify_hook=hook, state=marker
    )


def _shorten(request: dict, *, hook: str, marker: str):
    return relay.submit_shorten(request["prompt"], bot_type=request["bot"], notify_hook=hook, state=marker)


SUBMITS = {"imagine": _imagine, "blend": _blend, "describe": _describe, "shorten": _shorten}
