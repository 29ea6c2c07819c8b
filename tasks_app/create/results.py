"""The numbered prompts a finished DESCRIBE (four) or SHORTEN (five) answers with.

Relays write them as lines numbered with keycap emoji ("1️⃣ a fox ...") in the
task's prompt text; some in `promptEn`, some in `properties.finalPrompt` (or
the description). The first of those that holds numbered lines is read.
"""

from __future__ import annotations

import re

RESULT_ACTIONS = {"DESCRIBE": 4, "SHORTEN": 5}
MAX_LENGTH = 2000
_NUMBER = re.compile(r"[1-5]\ufe0f?\u20e3")  # a keycap: the digit, maybe VS16, then U+20E3


def result_prompts(task) -> list[str]:
    """The task's numbered prompts, in order; [] for other tasks or before they arrive."""
    count = RESULT_ACTIONS.get(task.action)
    if not count or not task.is_final:
        return []
    properties = task.properties if isinstance(task.properties, dict) else {}
    for text in (task.prompt_en, task.prompt, properties.get("finalPrompt"), task.description):
        found = numbered(text if isinstance(text, str) else "")
        if found:
            return found[:count]
    return []


def numbered(text: str) -> list[str]:
    """Items of a text numbered 1️⃣ 2️⃣ ..., in their order, each cut at MAX_LENGTH."""
    marks = list(_NUMBER.finditer(text))
    items = []
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(text)
        item = " ".join(text[mark.end() : end].split())
        if item:
            items.append(item[:MAX_LENGTH])
    return items


def result_prompt(task, n: int) -> str:
    """The n-th (1-based) prompt of a DESCRIBE or SHORTEN task; "" when there is none."""
    found = result_prompts(task)
    return found[n - 1] if 0 < n <= len(found) else ""
