"""A grid's four quadrants with the U n / V n buttons that act on each.

The detail page places these buttons on their quadrant; the markup of a
button stays in the `buttons` partial, which receives a view of the task
that carries only that quadrant's buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks_app.buttons.custom_ids import parse_custom_id
from tasks_app.buttons.rows import button_rows


@dataclass(frozen=True)
class Quadrant:
    n: int
    task: TaskButtons

    @property
    def slot(self) -> str:
        """Suffix that keeps the buttons partial's element ids unique on the page."""
        return f"-q{self.n}"


class TaskButtons:
    """The task as the buttons partial sees it, with a subset of its buttons."""

    def __init__(self, task: Any, buttons: list[dict]):
        self._task, self.buttons = task, buttons

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)

    @property
    def button_rows(self):
        return button_rows(self.buttons)


def quadrants(task: Any) -> list[Quadrant]:
    """Quadrants 1-4 in Midjourney's reading order (top left, top right, bottom left, bottom right)."""
    return [Quadrant(n, TaskButtons(task, _buttons_of(task.buttons, n))) for n in range(1, 5)]


def _buttons_of(buttons: Any, n: int) -> list[dict]:
    return [
        button
        for button in (buttons if isinstance(buttons, list) else ())
        if isinstance(button, dict) and parse_custom_id(button.get("customId")).quadrant == n
    ]
