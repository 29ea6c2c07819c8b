"""The family of a task as a tree: its first ancestor, and every task below it."""

from __future__ import annotations

from dataclasses import dataclass, field

from tasks_app.models import Task

# A family is walked at most this many generations up and down (one query each),
# and shows at most MAX_NODES tasks: a page stays small whatever the relay's data
# (a loop of parents, a grid pressed a thousand times).
MAX_GENERATIONS = 12
MAX_NODES = 200
NODE_FIELDS = ("id", "action", "status", "parent_id", "pressed_label", "submit_time")


@dataclass
class Node:
    task: Task
    current: bool = False
    children: list[Node] = field(default_factory=list)


@dataclass
class Family:
    root: Node
    size: int
    cut: bool  # more tasks than were shown


def task_family(*, task: Task) -> Family | None:
    """The tree `task` belongs to, or None when it has neither parent nor children.

    Queries: one per generation above it, one per generation below its
    first ancestor (each at most MAX_GENERATIONS)."""
    root = _first_ancestor(task)
    nodes = {root.pk: Node(root, current=root.pk == task.pk)}
    frontier, cut = [root.pk], False
    for _ in range(MAX_GENERATIONS):
        if not frontier:
            break
        room = MAX_NODES - len(nodes)
        found = list(
            Task.objects.filter(parent_id__in=frontier)
            .exclude(pk__in=list(nodes))
            .only(*NODE_FIELDS)
            .order_by("submit_time", "pk")[: room + 1]
        )
        if len(found) > room:
            found, cut = found[:room], True
        frontier = []
        for child in found:
            nodes[child.pk] = node = Node(child, current=child.pk == task.pk)
            nodes[child.parent_id].children.append(node)
            frontier.append(child.pk)
        if cut:
            break
    else:
        cut = bool(frontier) and Task.objects.filter(parent_id__in=frontier).exists()
    if len(nodes) == 1:
        return None
    return Family(nodes[root.pk], len(nodes), cut)


def _first_ancestor(task: Task) -> Task:
    seen, current = {task.pk}, task
    for _ in range(MAX_GENERATIONS):
        if current.parent_id is None or current.parent_id in seen:
            break
        parent = Task.objects.filter(pk=current.parent_id).only(*NODE_FIELDS).first()
        if parent is None:
            break
        seen.add(parent.pk)
        current = parent
    return current
