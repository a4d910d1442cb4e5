"""Long image-to-video: a chain of clips made with Stable Video Infinity 2.0 Pro.

A request is a chain when it asks for a length (`--length 30s`) or tells a story in shots
("a cat wakes up | the cat stretches | the cat walks to the window"). Each clip is its own
ComfyUI prompt (`workflows.svi.build_svi_clip`): anchored on the start image, continuing the
previous clip's last latent (saved by the clip, uploaded for the next), with its own seed
and its shot's prompt. The clips are joined once all are made: all of the first, then each
later one without the frames it repeats (`OVERLAP_FRAMES`), cut to the length asked for.

`plan_chain` says how many clips and which prompt each has; `clip_job` is the prepared job of
one clip (its request says which clip, its files carry the previous latent). The engine runs
one clip per dispatch (`bot.engine.chains`); `wanbot generate` runs them in a row.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import ParameterError
from bot.media.joins import join_clips
from bot.request import JobRequest, Mode, Params
from comfy.outputs import pick_latent
from workflows.svi import OVERLAP_FRAMES, clip_seed

if TYPE_CHECKING:
    from bot.intake import PreparedJob  # bot.intake asks this module about chains
    from bot.runner import RunResult
    from comfy import ComfyClient

# One "|" between shots; "||" (a Discord spoiler, or a typo) is not a shot break.
SHOT_BREAK = re.compile(r"(?<!\|)\|(?!\|)")
MIN_CLIP_FRAMES = 4 * OVERLAP_FRAMES + 1  # a clip must add frames beyond what it repeats


def shots_of(prompt: str) -> list[str]:
    """The shots of a prompt ("a | b | c"); one for a prompt without a separator."""
    shots = [part.strip() for part in SHOT_BREAK.split(prompt)]
    shots = [shot for shot in shots if shot]
    return shots or [prompt.strip()]


def wants_chain(mode: Mode, prompt: str, length: float) -> bool:
    """Whether a request of `mode` is made as a chain: a length, or two shots or more."""
    return mode is Mode.I2V and (length > 0 or len(shots_of(prompt)) > 1)


def chain_overrides(
    mode: Mode, prompt: str, overrides: dict[str, Any], typed: dict[str, Any]
) -> dict[str, Any]:
    """The overrides of a chain request: the fast preset (SVI 2.0 Pro is made for Wan2.2
    I2V A14B's two experts), refused where the user typed the standard one (`typed`: what
    this request says, beside the user's own defaults)."""
    if not wants_chain(mode, prompt, float(overrides.get("length") or 0.0)):
        return overrides
    if typed.get("quality", "fast") != "fast":
        raise ParameterError(
            "Long videos (--length, or shots split by |) are made with the fast preset: "
            "leave out --quality standard."
        )
    return {**overrides, "quality": "fast"}


@dataclass(frozen=True)
class ChainPlan:
    """How a chain is made: `clips` clips of `frames` frames, one prompt each, joined and cut
    to `keep` frames."""

    clips: int
    prompts: tuple[str, ...]
    frames: int
    keep: int
    first: int = 0  # the index of its first clip (an SVI extension continues at K)


def continues_chain(request: JobRequest) -> bool:
    """Whether `request` extends a video with SVI (from its last latent or frames)."""
    return request.extends is not None and request.extends.svi


def plan_chain(request: JobRequest) -> ChainPlan | None:
    """The chain a request asks for (an SVI extension: the clips it adds); None for a
    request of one clip."""
    params = request.params
    if request.clip is not None:
        return None  # a clip of a chain is one clip
    if not (wants_chain(request.mode, request.prompt, params.length) or continues_chain(request)):
        return None
    frames = params.frames
    if frames < MIN_CLIP_FRAMES:
        raise ParameterError(
            f"Each clip of a long video needs at least {MIN_CLIP_FRAMES} frames; "
            f"use --frames 81 (or leave it out)."
        )
    shots = shots_of(request.prompt)
    step = frames - OVERLAP_FRAMES  # what each clip after the first adds
    wanted = round(params.length * params.fps) if params.length > 0 else 0
    by_length = 1 + max(0, math.ceil((wanted - frames) / step))
    clips = max(by_length, len(shots))
    total = frames + (clips - 1) * step
    prompts = tuple(shots[index * len(shots) // clips] for index in range(clips))
    first = request.extends.clip if request.extends is not None else 0
    return ChainPlan(clips, prompts, frames, min(total, wanted) if wanted else total, first)


def clip_count(request: JobRequest) -> int:
    """How many clips `request` is made of (1 for an ordinary job)."""
    plan = plan_chain(request)
    return 1 if plan is None else plan.clips


@dataclass(frozen=True)
class ClipMade:
    """One finished clip of a chain, as stored with its job and named in the archive."""

    index: int
    video: str
    latent: str
    prompt: str
    seed: int
    prompt_id: str
    host: str
    gpu_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def clip_job(job: PreparedJob, plan: ChainPlan, made: list[ClipMade]) -> PreparedJob:
    """The prepared job of the chain's next clip: its shot's prompt, the previous clip's
    latent among its files (none for the first)."""
    index = len(made)
    clip = plan.first + index
    request = job.request.model_copy(update={"prompt": plan.prompts[index], "clip": clip})
    files = job.files
    extends = job.request.extends
    if made:
        files = files.model_copy(update={"latent": Path(made[-1].latent)})
    elif extends is not None and extends.svi:  # an SVI extension: where the video ends
        files = files.model_copy(update={"latent": extends.latent, "tail": extends.tail})
    return dataclasses.replace(job, request=request, files=files)


def seed_of(params: Params, index: int) -> int:
    """The seed clip `index` samples with."""
    return clip_seed(params.seed, index)


def clip_files(work_dir: Path, index: int) -> tuple[Path, Path]:
    """Where clip `index` of a chain keeps its video and its last latent (the folder is
    made here)."""
    folder = work_dir / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"clip_{index:03}.mp4", folder / f"clip_{index:03}.latent"


async def fetch_latent(client: ComfyClient, prompt_id: str, dest: Path) -> Path:
    """Download the last latent a finished clip's prompt saved (what the next clip continues
    from) to `dest`."""
    entry = await client.finished_entry(prompt_id)
    return await client.download(pick_latent(entry), dest)


def clip_made(
    request: JobRequest,
    plan: ChainPlan,
    index: int,
    result: RunResult,
    *,
    host: str,
    work_dir: Path,
) -> ClipMade:
    """The record of `request`'s clip `index`, made as `result` on `host` (its latent is
    where `clip_files` keeps it in `work_dir`)."""
    return ClipMade(
        index=plan.first + index,
        video=str(result.video),
        latent=str(clip_files(work_dir, index)[1]),
        prompt=plan.prompts[index],
        seed=seed_of(request.params, plan.first + index),
        prompt_id=result.prompt_id,
        host=host,
        gpu_seconds=round(result.gpu_seconds, 3),
    )


async def join_chain(clips: list[ClipMade], plan: ChainPlan, dest: Path) -> Path:
    """The chain's clips as one video at `dest`: encoded once, cut to the planned length."""
    videos = [Path(clip.video) for clip in clips]
    await join_clips(videos, dest, overlap=OVERLAP_FRAMES, keep_frames=plan.keep)
    return dest
