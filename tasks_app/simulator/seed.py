"""Sample tasks with fixed IDs, one or more in every state, for the demo and for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .tasks import job_hash

if TYPE_CHECKING:
    from .core import Simulator

GRID_A = "1743326750223591"
GRID_B = "1743326812904117"
GRID_C = "1743327001558302"
UPSCALE = "1743327190331840"
IN_PROGRESS = "1743329920417266"
SUBMITTED = "1743329985120093"
NOT_START = "1743329990007741"
FAILURE = "1743328411236508"
CANCEL = "1743328702214459"
MODAL = "1743327400876125"

SAMPLE_IDS = (
    GRID_A,
    GRID_B,
    GRID_C,
    UPSCALE,
    IN_PROGRESS,
    SUBMITTED,
    NOT_START,
    FAILURE,
    CANCEL,
    MODAL,
)

LONG_PROMPT = (
    "isometric cutaway illustration of a retro-futuristic orbital greenhouse station, "
    "hydroponic terraces spiralling around a glass core, tiny botanists in orange suits "
    "tending glowing ferns, maintenance drones, Earth rising behind frosted viewports, "
    "soft rim light, intricate mechanical details, pastel colour palette, 1970s NASA "
    "concept art meets Studio Ghibli, ultra detailed, tilt-shift --ar 1:1 --stylize 250 --v 6.1"
)


def load(sim: Simulator) -> None:
    """Add the sample tasks, spread over the last couple of hours of the sim clock."""
    add = sim.add_task
    add(
        GRID_A,
        prompt="a cozy reading nook inside a hollowed-out ancient oak tree, warm lantern light, "
        "rain on the window, volumetric light, cinematic --ar 1:1 --v 6.1",
        ago=7200,
        queued=3,
        run=42,
    )
    add(
        GRID_B,
        prompt="一只穿着汉服的橘猫坐在江南水乡的石桥上，烟雨朦胧，水墨画风格 --v 6.1 --style raw",
        promptEn="An orange cat in hanfu sitting on a stone bridge in a Jiangnan water town, "
        "misty rain, ink wash painting style --v 6.1 --style raw",
        ago=6600,
        queued=8,
        run=55,
    )
    add(GRID_C, prompt=LONG_PROMPT, ago=5400, queued=1, run=61)
    add(
        UPSCALE,
        action="UPSCALE",
        prompt=sim.task(GRID_A).prompt,
        parent_id=GRID_A,
        customId=f"MJ::JOB::upsample::2::{job_hash(GRID_A)}",
        ago=4800,
        run=9,
    )
    add(
        MODAL,
        action="INPAINT",
        prompt=sim.task(GRID_A).prompt,
        status="MODAL",
        parent_id=UPSCALE,
        customId=f"MJ::Inpaint::1::{job_hash(UPSCALE)}::SOLO",
        ago=4200,
    )
    add(
        FAILURE,
        prompt="photorealistic portrait of a famous politician in a compromising situation",
        outcome="FAILURE",
        fail_reason="Banned prompt detected",
        ago=3600,
        run=2,
    )
    add(
        CANCEL,
        prompt="neon koi fish swimming through a flooded Tokyo alley at night",
        status="CANCEL",
        ago=1800,
    )
    add(
        IN_PROGRESS,
        prompt="a lighthouse made of stacked teacups on a stormy sea, oil painting --v 6.1",
        ago=40,
        queued=5,
        run=300,
    )
    add(
        SUBMITTED,
        prompt="minimalist poster of a red bicycle leaning on a yellow wall --ar 2:3",
        ago=20,
        queued=900,
    )
    add(
        NOT_START,
        prompt="Cyberpunk 风格的上海外滩夜景，霓虹灯倒映在黄浦江上 --niji 6",
        promptEn="Night view of the Bund in Shanghai, cyberpunk style, neon lights reflected "
        "on the Huangpu River --niji 6",
        botType="NIJI_JOURNEY",
        status="NOT_START",
    )
