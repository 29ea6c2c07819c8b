"""Reads of the Create page: the person's created tasks, submits in flight, prompt history."""

from __future__ import annotations

from django.db.models import Q

from tasks_app.buttons.presses import CREATE_PREFIX
from tasks_app.models import Press, Task

CREATED_SHOWN = 24
HISTORY_SCANNED = 500  # of the person's latest submits: a history, not an archive


def created_tasks(*, user, limit: int = CREATED_SHOWN) -> list[Task]:
    """Tasks this person started on the Create page, newest first, as cards read them."""
    found = Task.objects.for_display().filter(pressed_by=user, pressed_custom_id__startswith=CREATE_PREFIX)
    return list(found.order_by("-first_seen", "-id")[:limit])


def creates_pending(*, user) -> list[Press]:
    """This person's submits the relay has not answered yet (their cards come when it does)."""
    pending = Press.objects.filter(user=user, task__isnull=True, state=Press.State.PENDING)
    return list(pending.order_by("-created")[:10])


def prompt_history(*, user, query: str = "", limit: int = 20) -> list[Press]:
    """The person's latest distinct prompts (newest use first), those holding `query` when given."""
    found = Press.objects.filter(user=user, task__isnull=True).exclude(prompt="")
    found = found.exclude(custom_id__startswith=f"{CREATE_PREFIX}blend:").exclude(
        custom_id__startswith=f"{CREATE_PREFIX}describe:"
    )
    words = query.split()[:8]
    for word in words:
        found = found.filter(Q(prompt__icontains=word))
    rows = found.order_by("-created").only("pk", "prompt", "created", "custom_id", "state")[:HISTORY_SCANNED]
    seen, history = set(), []
    for press in rows:
        if press.prompt not in seen:
            seen.add(press.prompt)
            history.append(press)
        if len(history) == limit:
            break
    return history
