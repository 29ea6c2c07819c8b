"""Linking tasks to the task whose button started them, from the relay's hashes."""

from __future__ import annotations

from tasks_app.buttons.custom_ids import parse_custom_id
from tasks_app.buttons.rows import button_label
from tasks_app.models import Task


def lineage_link(*, tasks: list[Task]) -> int:
    """Give these just-stored tasks their parent, and the stored tasks waiting
    for one of them theirs; return how many links were made.

    Whichever tool pressed the button (this dashboard, Discord, another
    client), the child's parent_hash is the parent's job_hash. A link a press
    made here is kept. Three queries at most, however many tasks.
    """
    by_hash = {task.job_hash: task for task in tasks if task.job_hash}
    orphans = [task for task in tasks if task.parent_id is None and task.parent_hash]
    wanted = {task.parent_hash for task in orphans} - by_hash.keys()
    if wanted:
        parents = Task.objects.filter(job_hash__in=wanted).only("id", "job_hash", "buttons")
        for parent in parents.order_by("-pk"):  # two tasks with one hash (never seen): the lowest ID
            by_hash[parent.job_hash] = parent
    if by_hash:
        mine = {task.pk for task in orphans}
        waiting = (
            Task.objects.filter(parent_hash__in=list(by_hash), parent__isnull=True)
            .exclude(pk__in=mine)
            .only("id", "parent_hash", "pressed_custom_id", "pressed_label", "action")
        )
        orphans += list(waiting)
    linked = []
    for child in orphans:
        parent = by_hash.get(child.parent_hash)
        if parent is None or parent.pk == child.pk:
            continue
        child.parent_id = parent.pk
        if not child.pressed_label:
            child.pressed_label = pressed_label(parent.buttons, child.pressed_custom_id)[:80]
        linked.append(child)
    if linked:
        Task.objects.bulk_update(linked, ["parent", "pressed_label"])
    return len(linked)


def pressed_label(buttons, custom_id: str) -> str:
    """What the button that started a task said: its label on the parent when
    the parent still shows it, else a name read from the customId ("U2", "Pan left")."""
    label = button_label(buttons, custom_id)
    if label or not custom_id:
        return label
    parsed = parse_custom_id(custom_id)
    if parsed.quadrant:
        return f"{'U' if parsed.op == 'upsample' else 'V'}{parsed.quadrant}"
    name = parsed.op or parsed.family
    return name.replace("_", " ").capitalize()
