"""notifyHook delivery: the simulator POSTs a task object to its hook when its state moves.

A real relay pushes on each change of a task submitted with a notifyHook. Here a
change is noticed whenever the clock is advanced, when `deliver_hooks()` is
called, and (clock running, as in demo mode) by a ticker thread.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from .tasks import SimTask

if TYPE_CHECKING:
    from .core import Simulator


def deliver(sim: Simulator, timeout: float = 3.0) -> list[tuple[str, int]]:
    """POST every task whose (status, progress) moved since its last push; (id, HTTP status) each."""
    return [(task_id, post(url, payload, timeout)) for task_id, url, payload in _due(sim)]


def post(url: str, payload: dict, timeout: float) -> int:
    """One push; the HTTP status, or 0 when the hook could not be reached."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the test's own URL
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def _due(sim: Simulator) -> list[tuple[str, str, dict]]:
    out = []
    with sim.lock:
        now = sim.clock.now()
        for task in list(sim._tasks.values()):
            if not isinstance(task, SimTask) or not task.notify_hook:
                continue
            payload = task.payload(now, sim._url)
            mark = (payload["status"], payload["progress"])
            if sim.hook_marks.get(task.id) != mark:
                sim.hook_marks[task.id] = mark
                out.append((task.id, task.notify_hook, payload))
    return out
