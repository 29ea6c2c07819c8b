"""A grid's four quadrants with the U n / V n buttons that act on each.

The detail page places these buttons on their quadrant; the markup of a
button stays in the `buttons` partial, which receives a view of the task
that carries only that quadrant's buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks_app.button_rows import button_rows


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
    found = []
    for button in buttons if isinstance(buttons, list) else ():
        parts = str(button.get("customId", "")).split("::") if isinstance(button, dict) else []
        acts_on_quadrant = (
            len(parts) == 5 and parts[:2] == ["MJ", "JOB"] and parts[2] in ("upsample", "variation")
        )
        if acts_on_quadrant and parts[3] == str(n):
            found.append(button)
    return found
