"""The routes that start a job from nothing: imagine, blend, describe, shorten.

Validated as a relay would (empty prompt, banned word, images that are not
images, too many or too few of them, a full queue), each answering the same
envelope as `submit/action`. A finished DESCRIBE holds four numbered prompts in
its prompt text, a finished SHORTEN five in `properties.finalPrompt`, each with
buttons that imagine one of them.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from .jobs import BANNED, envelope
from .tasks import TERMINAL, seed_of

if TYPE_CHECKING:
    from .core import Simulator

MAX_IMAGINE_IMAGES = 5
BLEND_IMAGES = (2, 5)
DIMENSIONS = frozenset({"PORTRAIT", "SQUARE", "LANDSCAPE"})
KEYCAPS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")
_DATA_URL = re.compile(r"data:image/(png|jpeg|jpg|webp|gif);base64,(.+)", re.DOTALL)
SUBJECTS = (
    "a lighthouse on a basalt cliff at dusk",
    "a fox curled up in fresh snow",
    "a paper lantern festival over a river",
    "an astronaut tending a rooftop garden",
    "a tram crossing a rain-soaked bridge",
    "a bowl of ramen in a neon-lit alley",
    "a glass greenhouse full of ferns",
    "a sleeping dragon on a pile of books",
)
STYLES = (
    "soft film grain, muted colours",
    "ink wash painting, generous white space",
    "isometric illustration, pastel palette",
    "cinematic lighting, shallow depth of field",
    "watercolour, loose brush strokes",
    "low-poly 3D render, studio light",
)


def imagine(sim: Simulator, body: dict) -> dict:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return envelope(4, "prompt must not be empty")
    images = body.get("base64Array") or []
    problem = _images_problem(images, (0, MAX_IMAGINE_IMAGES))
    if problem:
        return envelope(4, problem)
    banned = BANNED.search(prompt)
    if banned:
        return envelope(24, "Banned prompt", bannedWord=banned.group(0), promptEn=prompt)
    urls = [f"https://s.mj.run/{seed_of(str(image)[-64:]):012x}" for image in images]
    prompt_en = " ".join([*urls, prompt])
    return _start(sim, body, action="IMAGINE", prompt=prompt, promptEn=prompt_en)


def blend(sim: Simulator, body: dict) -> dict:
    images = body.get("base64Array")
    problem = _images_problem(images, BLEND_IMAGES)
    if problem:
        return envelope(4, problem)
    dimensions = body.get("dimensions") or "SQUARE"
    if dimensions not in DIMENSIONS:
        return envelope(4, "dimensions must be PORTRAIT, SQUARE or LANDSCAPE")
    urls = " ".join(f"https://s.mj.run/{seed_of(str(image)[-64:]):012x}" for image in images)
    ratio = {"PORTRAIT": "2:3", "SQUARE": "1:1", "LANDSCAPE": "3:2"}[dimensions]
    return _start(sim, body, action="BLEND", prompt=f"{urls} --ar {ratio}")


def describe(sim: Simulator, body: dict) -> dict:
    image = body.get("base64")
    problem = _images_problem([image] if image else [], (1, 1))
    if problem:
        return envelope(4, problem)
    seed = seed_of(str(image)[-256:])
    prompts = [_invented_prompt(seed + n) for n in range(4)]
    return _start(sim, body, action="DESCRIBE", prompt="", resultText=numbered(prompts))


def shorten(sim: Simulator, body: dict) -> dict:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        return envelope(4, "prompt must not be empty")
    banned = BANNED.search(prompt)
    if banned:
        return envelope(24, "Banned prompt", bannedWord=banned.group(0), promptEn=prompt)
    return _start(sim, body, action="SHORTEN", prompt=prompt, resultText=numbered(shortened(prompt)))


def numbered(prompts: list[str]) -> str:
    """Lines as a relay writes them: a keycap emoji, the prompt, a blank line between."""
    return "\n\n".join(f"{KEYCAPS[n]} {prompt}" for n, prompt in enumerate(prompts))


def shortened(prompt: str) -> list[str]:
    """Five shorter forms of a prompt: its first words, fewer each time (parameters kept)."""
    text, _, params = prompt.partition(" --")
    words = re.split(r"[\s,]+", text.strip()) or [text]
    tail = f" --{params}" if params else ""
    counts = sorted(
        {max(1, round(len(words) * share)) for share in (0.8, 0.65, 0.5, 0.35, 0.2)}, reverse=True
    )
    while len(counts) < 5:
        counts.append(counts[-1])
    return [" ".join(words[:count]) + tail for count in counts[:5]]


def picked_prompt(text: str, n: int) -> str | None:
    """The n-th (1-based) numbered prompt of a DESCRIBE or SHORTEN text."""
    parts = re.split("|".join(map(re.escape, KEYCAPS)), text)[1:]
    return parts[n - 1].strip() if 0 < n <= len(parts) else None


def _invented_prompt(seed: int) -> str:
    subject = SUBJECTS[seed % len(SUBJECTS)]
    style = STYLES[(seed // len(SUBJECTS)) % len(STYLES)]
    ratio = ("1:1", "4:3", "3:2", "2:3")[(seed // 7) % 4]
    return f"{subject}, {style} --ar {ratio}"


def _start(sim: Simulator, body: dict, *, action: str, prompt: str, **fields) -> dict:
    """Create the job, or answer as a busy relay would (a full queue, a queue, an old task)."""
    with sim.lock:
        forced = sim.forced_codes.pop(0) if sim.forced_codes else None
        running = _unfinished(sim)
        if forced in (4, 9, 23, 24) or (sim.queue_capacity is not None and running >= sim.queue_capacity):
            return _refusal(forced or 23, prompt)
        if forced == 21:
            existing = _latest(sim, action, prompt)
            if existing:
                return envelope(21, "Task already exists", existing, status="SUCCESS")
        # Past `concurrent_jobs` running jobs a relay queues the new one (code 22).
        ahead = running - sim.concurrent_jobs + 1 if sim.concurrent_jobs is not None else 0
        queued = forced == 22 or ahead > 0
        ahead = max(ahead, 1) if queued else 0
        task_id = sim.add_task(
            action=action,
            prompt=prompt,
            queued=sim.queued_seconds + sim.run_seconds * ahead,
            run=sim.run_seconds,
            botType=str(body.get("botType") or "MID_JOURNEY"),
            state=str(body.get("state") or ""),
            notifyHook=str(body.get("notifyHook") or ""),
            **fields,
        )
    if queued:
        return envelope(22, f"In queue, there are {ahead} tasks ahead", task_id, numberOfQueues=ahead)
    return envelope(1, "Submit success", task_id)


def _refusal(code: int, prompt: str) -> dict:
    if code == 23:
        return envelope(23, "Queue full, please try again later")
    if code == 24:
        return envelope(24, "Banned prompt", bannedWord="banned", promptEn=prompt)
    return envelope(code, "System busy, please try again later")


def _unfinished(sim: Simulator) -> int:
    now = sim.clock.now()
    return sum(
        1
        for task_id in sim.task_ids()
        if hasattr(task := sim.stored(task_id), "timeline") and task.timeline(now)[0] not in TERMINAL
    )


def _latest(sim: Simulator, action: str, prompt: str) -> str | None:
    for task_id in reversed(sim.task_ids()):
        task = sim.stored(task_id)
        if getattr(task, "action", None) == action and getattr(task, "prompt", None) == prompt:
            return task_id
    return None


def _images_problem(images, count: tuple[int, int]) -> str:
    """Why these base64 images are refused, or "" when they are fine."""
    low, high = count
    if not isinstance(images, list):
        return "base64Array must be a list of data URLs"
    if not low <= len(images) <= high:
        return f"between {low} and {high} images are required, got {len(images)}"
    for n, image in enumerate(images, 1):
        found = _DATA_URL.fullmatch(image) if isinstance(image, str) else None
        if found is None:
            return f"image {n}: not a data:image/...;base64 URL"
        try:
            data = base64.b64decode(found.group(2), validate=True)
            with Image.open(io.BytesIO(data)) as picture:
                picture.verify()
        except (binascii.Error, ValueError, UnidentifiedImageError, OSError, Image.DecompressionBombError):
            return f"image {n}: base64 is not a readable image"
    return ""
