"""Simulated tasks: their state is a pure function of the clock, rendered as proxy JSON.

Keeping status, progress and times derived from `now` (rather than stored and
mutated by a worker thread) makes every state reachable by moving the clock.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

GRID_ACTIONS = frozenset({"IMAGINE", "VARIATION", "REROLL", "ZOOM", "PAN", "INPAINT", "CUSTOM_ZOOM", "BLEND"})
TERMINAL = frozenset({"SUCCESS", "FAILURE", "CANCEL"})
DISCORD_INSTANCE = "1300842274347028520"
NOT_START_SECONDS = 1.0

# (label, emoji, customId template); "{h}" is the job hash.
UPSCALE_BUTTONS = (
    ("Upscale (Subtle)", "", "MJ::JOB::upsample_v6_2x_subtle::1::{h}::SOLO"),
    ("Upscale (Creative)", "", "MJ::JOB::upsample_v6_2x_creative::1::{h}::SOLO"),
    ("Vary (Subtle)", "🪄", "MJ::JOB::low_variation::1::{h}::SOLO"),
    ("Vary (Strong)", "🪄", "MJ::JOB::variation::1::{h}::SOLO"),
    ("Vary (Region)", "🖌️", "MJ::Inpaint::1::{h}::SOLO"),
    ("Zoom Out 2x", "🔍", "MJ::Outpaint::50::1::{h}::SOLO"),
    ("Zoom Out 1.5x", "🔍", "MJ::Outpaint::75::1::{h}::SOLO"),
    ("Custom Zoom", "🔍", "MJ::CustomZoom::{h}"),
    ("", "⬅️", "MJ::JOB::pan_left::1::{h}::SOLO"),
    ("", "➡️", "MJ::JOB::pan_right::1::{h}::SOLO"),
    ("", "⬆️", "MJ::JOB::pan_up::1::{h}::SOLO"),
    ("", "⬇️", "MJ::JOB::pan_down::1::{h}::SOLO"),
    ("", "❤️", "MJ::BOOKMARK::{h}"),
)
DESCRIBE_BUTTONS = tuple((f"{n}", "", f"MJ::Job::PicReader::{n}") for n in range(1, 5))
SHORTEN_BUTTONS = tuple((f"{n}", "", f"MJ::Job::PromptAnalyzer::{n}") for n in range(1, 6))
NO_IMAGE_ACTIONS = frozenset({"SHORTEN"})
GRID_BUTTONS = (
    *((f"U{n}", "", f"MJ::JOB::upsample::{n}::{{h}}") for n in range(1, 5)),
    ("", "🔄", "MJ::JOB::reroll::0::{h}::SOLO"),
    *((f"V{n}", "", f"MJ::JOB::variation::{n}::{{h}}") for n in range(1, 5)),
)

UrlMaker = Callable[["SimTask", str, float], str]


def job_hash(task_id: str) -> str:
    """A stable uuid-looking hash, like Midjourney's job hash, derived from the id."""
    digest = hashlib.md5(task_id.encode(), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def seed_of(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")


def default_buttons(action: str, hash_: str) -> list[dict[str, Any]]:
    if action in GRID_ACTIONS:
        specs = GRID_BUTTONS
    elif action == "UPSCALE":
        specs = UPSCALE_BUTTONS
    elif action == "DESCRIBE":
        specs = DESCRIBE_BUTTONS
    elif action == "SHORTEN":
        specs = SHORTEN_BUTTONS
    else:
        specs = ()
    return [
        {"customId": cid.format(h=hash_), "emoji": emoji, "label": label, "type": 2, "style": 2}
        for label, emoji, cid in specs
    ]


@dataclass
class SimTask:
    """One modelled job; times are clock seconds, rendered to epoch ms in the payload."""

    id: str
    action: str
    prompt: str
    submitted: float
    queued: float = 0.0
    run: float = 30.0
    outcome: str = "SUCCESS"
    fail_reason: str = ""
    pinned: str | None = None
    pinned_at: float = 0.0
    finished_at: float = 0.0
    parent_id: str | None = None
    buttons: list[dict[str, Any]] | None = None
    custom_id: str = ""
    bot_type: str = "MID_JOURNEY"
    state: str = ""
    prompt_en: str | None = None
    mask: str = ""
    notify_hook: str = ""
    # DESCRIBE / SHORTEN: the numbered prompts the finished task shows.
    result_text: str = ""
    look: tuple[int, int | None] = (0, None)
    hostile: str = ""  # every image link answers this kind of hostile image (hostile.py)
    pressed: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        return job_hash(self.id)

    @property
    def is_grid(self) -> bool:
        return self.action not in ("UPSCALE", "DESCRIBE")

    def timeline(self, now: float) -> tuple[str, str, float, float]:
        """(status, progress, start, finish) at `now`; start/finish are 0 when not reached."""
        if self.pinned is not None:
            status, progress, start, _ = self._natural(self.pinned_at)
            if self.pinned == "MODAL":
                return "MODAL", "0%", 0.0, 0.0
            finish = (self.finished_at or self.pinned_at) if self.pinned in TERMINAL else 0.0
            return self.pinned, progress, start, finish
        return self._natural(now)

    def _natural(self, now: float) -> tuple[str, str, float, float]:
        elapsed = now - self.submitted
        start = self.submitted + NOT_START_SECONDS + max(self.queued, 0.0)
        finish = start + max(self.run, 0.0)
        if elapsed < NOT_START_SECONDS:
            return "NOT_START", "0%", 0.0, 0.0
        if now < start:
            return "SUBMITTED", "0%", 0.0, 0.0
        if now < finish:
            pct = min(99, int(99 * (now - start) / self.run)) if self.run > 0 else 99
            return "IN_PROGRESS", f"{pct}%", start, 0.0
        if self.outcome == "SUCCESS":
            return "SUCCESS", "100%", start, finish
        return self.outcome, "", start, finish

    def payload(self, now: float, url: UrlMaker) -> dict[str, Any]:
        status, progress, start, finish = self.timeline(now)
        hash_ = self.hash
        prompt_en = self.prompt if self.prompt_en is None else self.prompt_en
        image_url, image_urls = "", []
        if self.action in NO_IMAGE_ACTIONS:
            pass  # a text answer: no picture at all
        elif status == "SUCCESS":
            image_url = url(self, "", finish)
            if self.is_grid:
                image_urls = [{"url": url(self, f"_{n}", finish)} for n in range(1, 5)]
        elif status == "IN_PROGRESS" and progress not in ("", "0%"):
            bucket = max(25, int(progress.rstrip("%")) // 25 * 25)
            image_url = url(self, f"_p{bucket}", now)
        buttons = []
        if status == "SUCCESS":
            source = default_buttons(self.action, hash_) if self.buttons is None else self.buttons
            buttons = [{**b, "style": 3} if b.get("customId") in self.pressed else dict(b) for b in source]
        message_id = str(1302547211321741343 + seed_of(self.id) % 10**12)
        properties = {
            "finalPrompt": prompt_en,
            "finalZhPrompt": self.prompt if _has_cjk(self.prompt) else "",
            "discordInstanceId": DISCORD_INSTANCE,
            "discordChannelId": DISCORD_INSTANCE,
            "messageId": message_id if start else "",
            "progressMessageId": message_id if start else "",
            "messageHash": hash_ if status == "SUCCESS" else "",
            "flags": 0,
            "nonce": str(seed_of("nonce" + self.id) % 10**19),
            "notifyHook": self.notify_hook,
        }
        body = {
            "id": self.id,
            "action": self.action,
            "customId": self.custom_id,
            "botType": self.bot_type,
            "prompt": self.prompt,
            "promptEn": prompt_en,
            "description": "Submit success",
            "state": self.state,
            "submitTime": _ms(self.submitted),
            "startTime": _ms(start),
            "finishTime": _ms(finish),
            "imageUrl": image_url,
            "imageUrls": image_urls,
            "status": status,
            "progress": progress,
            "failReason": self.fail_reason if status == "FAILURE" else "",
            "buttons": buttons,
            "maskBase64": self.mask,
            "properties": properties,
        }
        if status == "SUCCESS" and self.result_text:
            if self.action == "DESCRIBE":
                body["prompt"] = body["promptEn"] = properties["finalPrompt"] = self.result_text
            else:
                properties["finalPrompt"] = self.result_text
        extra = dict(self.extra)
        properties.update(extra.pop("properties", None) or {})
        body.update(extra)
        return body


def _ms(secs: float) -> int:
    return int(secs * 1000) if secs else 0


def _has_cjk(text: str) -> bool:
    return re.search(r"[\u3400-\u9fff]", text) is not None
