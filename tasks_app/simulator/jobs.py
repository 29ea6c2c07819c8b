"""What the submit routes do: validate like a proxy would, then create or change tasks.

Every answer is the proxy's envelope (HTTP 200 even for refusals, as real
proxies do); the codes follow UPSTREAM.md.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .tasks import TERMINAL, SimTask, default_buttons, seed_of

if TYPE_CHECKING:
    from .core import Simulator

BANNED = re.compile(r"\bbanned\b", re.IGNORECASE)
MODAL_ACTIONS = frozenset({"INPAINT", "CUSTOM_ZOOM"})


def envelope(code: int, description: str, result: Any = None, **properties: Any) -> dict:
    return {"code": code, "description": description, "result": result, "properties": properties}


def button_action(custom_id: str) -> str | None:
    """The action a button starts, from its customId; None for unknown patterns."""
    parts = custom_id.split("::")
    if len(parts) < 3 or parts[0] != "MJ":
        return None
    if parts[1] == "Job" and parts[2] in ("PicReader", "PromptAnalyzer"):
        return "IMAGINE"  # a DESCRIBE's or SHORTEN's numbered prompt, imagined
    if parts[1] == "JOB":
        op = parts[2]
        if op.startswith("upsample"):
            return "UPSCALE"
        if op in ("variation", "low_variation", "high_variation"):
            return "VARIATION"
        if op == "reroll":
            return "REROLL"
        if op.startswith("pan_"):
            return "PAN"
        return None
    return {
        "Outpaint": "ZOOM",
        "Inpaint": "INPAINT",
        "CustomZoom": "CUSTOM_ZOOM",
        "BOOKMARK": "BOOKMARK",
    }.get(parts[1])


def child_look(parent_look: tuple[int, int | None], custom_id: str, child_id: str):
    """An upscale looks like the quadrant it came from; anything else is a new picture."""
    match = re.match(r"MJ::JOB::upsample::([1-4])::", custom_id)
    if match:
        return (parent_look[0], int(match.group(1)))
    if custom_id.startswith("MJ::JOB::upsample"):
        return parent_look
    return (seed_of(child_id), None)


def action(sim: Simulator, body: dict) -> dict:
    parent_id, custom_id = str(body.get("taskId") or ""), body.get("customId")
    if not parent_id or not isinstance(custom_id, str) or not custom_id:
        return envelope(4, "taskId and customId are required")
    with sim.lock:
        parent = sim.stored(parent_id)
        if parent is None:
            return envelope(4, f"task {parent_id} not found")
        if custom_id not in _button_ids(sim, parent):
            return envelope(4, "customId is not one of the task's buttons")
        kind = button_action(custom_id)
        if kind is None:
            return envelope(4, f"unsupported button {custom_id}")
        forced = sim.forced_codes.pop(0) if sim.forced_codes else None
        if forced in REFUSALS:
            return _refusal(forced, parent)
        existing = _existing_child(sim, parent_id, custom_id)
        if sim.code21_dialect == "original" and existing and kind not in MODAL_ACTIONS:
            payload = sim._payload(existing) or {}
            return envelope(
                21,
                "Task already exists",
                existing,
                status=payload.get("status"),
                imageUrl=payload.get("imageUrl"),
            )
        _mark_pressed(parent, custom_id)
        if kind == "BOOKMARK":
            return envelope(1, "Success", "")
        prompt = _prompt_of(parent, custom_id)
        fields = {
            "customId": custom_id,
            "state": str(body.get("state") or ""),
            "notifyHook": str(body.get("notifyHook") or ""),
        }
        if kind in MODAL_ACTIONS:
            task_id = sim.add_task(action=kind, prompt=prompt, status="MODAL", parent_id=parent_id, **fields)
            return envelope(21, "Waiting for window confirm", task_id, finalPrompt=prompt, remix=True)
        task_ids = [
            sim.add_task(
                action=kind,
                prompt=prompt,
                queued=sim.queued_seconds,
                run=sim.run_seconds,
                parent_id=parent_id,
                **fields,
            )
            for _ in range(max(1, sim.tasks_per_press))
        ]
        # A hostile relay's result: whatever a test set instead of the new IDs.
        result = sim.forced_results.pop(0) if sim.forced_results else ",".join(task_ids)
        if forced == 22:
            return envelope(22, "In queue, there are 2 tasks ahead", result, numberOfQueues=2)
        return envelope(1, "Submit success", result)


def modal(sim: Simulator, body: dict) -> dict:
    task_id = str(body.get("taskId") or "")
    with sim.lock:
        task = sim.stored(task_id)
        if not isinstance(task, SimTask) or task.pinned != "MODAL":
            return envelope(4, f"task {task_id} is not waiting for a form")
        forced = sim.forced_codes.pop(0) if sim.forced_codes else None
        if forced in REFUSALS:
            return _refusal(forced, task)
        mask, prompt = body.get("maskBase64") or "", body.get("prompt")
        if task.action == "INPAINT" and not mask:
            return envelope(4, "maskBase64 is required for Vary (Region)")
        task.pinned = None
        task.submitted = sim.clock.now()
        task.queued, task.run = sim.queued_seconds, sim.run_seconds
        if isinstance(prompt, str) and prompt.strip():
            task.prompt, task.prompt_en = prompt, None
        task.mask = str(mask)
        if body.get("state"):
            task.state = str(body["state"])
        if forced == 22:
            return envelope(22, "In queue, there are 2 tasks ahead", task.id, numberOfQueues=2)
        return envelope(1, "Submit success", task.id)


def cancel(sim: Simulator, task_id: str) -> dict:
    with sim.lock:
        task = sim.stored(task_id)
        if task is None:
            return envelope(4, f"task {task_id} not found")
        if not isinstance(task, SimTask):
            task["status"] = "CANCEL"
            return envelope(1, "Cancel success", task_id)
        now = sim.clock.now()
        status = task.timeline(now)[0]
        if status == "CANCEL":
            return envelope(1, "Cancel success", task_id)
        if status in TERMINAL:
            return envelope(4, f"task is already finished ({status})")
        task.pinned_at = now if task.pinned is None else task.pinned_at
        task.pinned, task.finished_at = "CANCEL", now
        return envelope(1, "Cancel success", task_id)


REFUSALS = frozenset({23, 24, 4, 9})


def _refusal(code: int, task: SimTask | dict) -> dict:
    prompt = task.prompt if isinstance(task, SimTask) else str(task.get("prompt") or "")
    if code == 23:
        return envelope(23, "Queue full, please try again later")
    if code == 24:
        return envelope(24, "Banned prompt", bannedWord="banned", promptEn=prompt)
    return envelope(code, "System busy, please try again later")


def _prompt_of(parent: SimTask | dict, custom_id: str) -> str:
    """The prompt a button's job draws: its parent's, or the numbered one it picks."""
    if not isinstance(parent, SimTask):
        return str(parent.get("prompt") or "")
    picked = re.fullmatch(r"MJ::Job::(?:PicReader|PromptAnalyzer)::(\d)", custom_id)
    if picked and parent.result_text:
        from .create import picked_prompt

        return picked_prompt(parent.result_text, int(picked.group(1))) or parent.prompt
    return parent.prompt


def _existing_child(sim: Simulator, parent_id: str, custom_id: str) -> str | None:
    for task_id in sim.task_ids():
        task = sim.stored(task_id)
        if isinstance(task, SimTask) and task.parent_id == parent_id and task.custom_id == custom_id:
            return task_id
    return None


def _button_ids(sim: Simulator, task: SimTask | dict) -> list[str]:
    if isinstance(task, SimTask):
        if task.timeline(sim.clock.now())[0] != "SUCCESS":
            return []
        buttons = default_buttons(task.action, task.hash) if task.buttons is None else task.buttons
    else:
        buttons = task.get("buttons") if isinstance(task.get("buttons"), list) else []
    return [b.get("customId") for b in buttons if isinstance(b, dict)]


def _mark_pressed(task: SimTask | dict, custom_id: str) -> None:
    if isinstance(task, SimTask):
        task.pressed.add(custom_id)
        return
    for button in task.get("buttons") or []:
        if isinstance(button, dict) and button.get("customId") == custom_id:
            button["style"] = 3
