"""A set's readable default name: the first words of its first prompt and the day it was made."""

from __future__ import annotations

import re

from django.utils import timezone

WORDS = 6
MAX_CHARS = 40  # of the prompt's part; a set's name holds 100
# Parameters (--ar 16:9), links and <@mentions> say nothing a person recognises.
NOISE = re.compile(r"(--\S+(\s+[^\s-]\S*)?)|(https?://\S+)|(<[^>]*>)")


def set_auto_name(*, task_set, tasks) -> str:
    """ "a lighthouse at dusk oil painting · 2026-12-05", or "" when no task has a prompt yet."""
    prompt = next((text for task in tasks if (text := _prompt(task))), "")
    if not prompt:
        return ""
    day = timezone.localdate(task_set.created).isoformat()
    return f"{prompt} · {day}"


def _prompt(task) -> str:
    text = " ".join(NOISE.sub(" ", task.prompt or task.prompt_en or "").split())
    words = text.split(" ")
    short = " ".join(words[:WORDS])
    if len(short) > MAX_CHARS:  # Chinese and other scripts without spaces: cut by characters
        short = short[:MAX_CHARS].rstrip() + "…"
    elif len(words) > WORDS:
        short += "…"
    return short
