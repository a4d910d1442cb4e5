"""Intake: from what a user asked to a job whose files are ready to upload.

`prepare_job` resolves the parameters (`bot.params`), then normalizes every input file with
`bot.media` (photo to the video size, audio to 16 kHz WAV, pose frames to one clip) and
derives what follows from the media: the size from the photo's orientation, InfiniteTalk's
length from the audio, WanAnimate's from the pose frames. The CLI calls it on the user's own
files.

The engine calls `accept_inputs` instead: chat platforms' download links expire and temporary
files vanish, so a job keeps its own copies: `jobs/<id>/input/` holds what the user sent,
`jobs/<id>/` the normalized uploads. That is what lets a job run again after a restart, or be
re-rolled later (`accept_request`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.chain import chain_overrides, plan_chain
from bot.config import Config
from bot.errors import InputError, ParameterError
from bot.media.audio import cut_note, frames_for_duration, prepare_audio
from bot.media.decode import Fit, PixelBudget
from bot.media.frames import PreparedFrames, check_matching, frames_for_count, prepare_frames
from bot.media.images import PreparedImage, prepare_image
from bot.params import require_text
from bot.request import Ask, FileSet, InputFiles, JobRequest, Mode, Params
from bot.resolve import resolve_params

FACE_SIZE = 512  # WanAnimate's face encoder works on 512x512 crops


@dataclass(frozen=True)
class PreparedJob:
    request: JobRequest
    files: FileSet[Path]  # normalized: one file per workflow input (one pose, one face clip)


def _require_inputs(mode: Mode, inputs: InputFiles) -> None:
    if mode is Mode.INFINITETALK and inputs.audio is None:
        raise InputError(
            "InfiniteTalk needs a speech recording: send a voice note or an audio file "
            "(WAV, MP3, M4A or OGG) together with the portrait."
        )
    if mode is Mode.ANIMATE and not inputs.pose:
        raise InputError(
            "WanAnimate needs pose frames: send pose images (or a zip of them) or a pose video "
            "together with the reference image."
        )
    if mode is Mode.ANIMATE2 and not inputs.pose:
        raise InputError(
            "Wan-Animate-2 moves your photo the way a person moves in a video: send a video "
            "(MP4, MOV, WebM or GIF) of someone moving together with the photo."
        )
    if mode is Mode.ANIMATE2 and (inputs.face or inputs.background is not None):
        raise InputError(
            "Wan-Animate-2 takes a photo and a video only: send the job without face frames "
            "or a background (those are for /animate)."
        )
    if mode is not Mode.I2V and inputs.end is not None:
        raise InputError(
            "An end frame works with image to video (/i2v) only: send the job without it."
        )


def _require_utf8(request: JobRequest) -> None:
    """Everything a job stores must be UTF-8, or the archive fails after the GPU's work."""
    require_text("prompt", request.prompt)
    require_text("negative prompt", request.negative_prompt)
    for path in request.inputs.all():
        try:
            str(path).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(
                f"The file name {str(path)!r} is not valid UTF-8 text; please rename the file."
            ) from None


# A job without a prompt: talking and moving people have a natural default; an image to video
# needs the user to say what should happen.
DEFAULT_PROMPTS: dict[Mode, str] = {
    Mode.INFINITETALK: "a person talking naturally, looking at the camera",
    Mode.ANIMATE: "a person moving naturally",
    Mode.ANIMATE2: "a person moving naturally",
}


def prompt_or_default(mode: Mode, typed: str) -> str:
    """The prompt a job of `mode` runs with: what the user typed, else the mode's default;
    a `ParameterError` for a mode that needs one (every front end decides this the same)."""
    text = typed.strip()
    if text:
        return text
    if mode in DEFAULT_PROMPTS:
        return DEFAULT_PROMPTS[mode]
    raise ParameterError(
        "Please add a prompt that says what should happen in the video, for example "
        "“a cat walking through a garden”."
    )


async def prepare_job(
    ask: Ask, config: Config, schedulers: Sequence[str], work_dir: Path
) -> PreparedJob:
    """Validate parameters and inputs, normalize the files into `work_dir`."""
    prompt = prompt_or_default(ask.mode, ask.prompt)
    require_text("prompt", prompt)
    _require_inputs(ask.mode, ask.inputs)
    merged = chain_overrides(
        ask.mode, prompt, {**ask.user_defaults, **ask.overrides}, ask.overrides
    )
    resolved = resolve_params(ask.mode, merged, config, schedulers)
    used = [k for k in ask.user_defaults if k not in ask.overrides]
    notes = [f"from your /settings: {', '.join(used)}."] if used else []
    request = JobRequest(
        mode=ask.mode,
        prompt=prompt,
        negative_prompt=resolved.negative_prompt,
        params=resolved.params,
        inputs=ask.inputs,
        notes=[*notes, *resolved.notes],
    )
    _check_chain(request)
    return await prepare_request(request, config, work_dir)


def _check_chain(request: JobRequest) -> None:
    """A long video's own rules (its clip size, no end image), before any file is read."""
    if plan_chain(request) is None:
        return
    if request.inputs.end is not None:
        raise ParameterError(
            "A long video (--length, or shots split by |) cannot have an end image: each "
            "clip continues the last. Leave out the end image, or make one clip."
        )


async def prepare_request(request: JobRequest, config: Config, work_dir: Path) -> PreparedJob:
    """Normalize the files of an already resolved request (also used to re-run an archive):
    the image (and end frame) for every mode, then what the mode adds."""
    _require_utf8(request)
    _require_inputs(request.mode, request.inputs)
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    job = _Preparing(request, config, work_dir, request.params.model_copy(), list(request.notes))
    await _prepare_images(job)
    extra = _BY_MODE.get(request.mode)
    if extra is not None:
        await extra(job)
    final = request.model_copy(update={"params": job.params, "notes": job.notes})
    return PreparedJob(final, FileSet[Path](**job.files))


@dataclass
class _Preparing:
    """A request's files on their way into `work_dir`, and what preparing them changed."""

    request: JobRequest
    config: Config
    work_dir: Path
    params: Params
    notes: list[str]
    files: dict[str, Any] = field(default_factory=dict)
    budget: PixelBudget = field(init=False)  # one for all of the job's images

    def __post_init__(self) -> None:
        self.budget = PixelBudget(self.config.limits.max_total_pixels)

    async def image(
        self, source: Path, name: str, *, follow_orientation: bool = False, fit: Fit | None = None
    ) -> PreparedImage:
        """`source` at the video's size as `name` in the work folder."""
        return await prepare_image(
            source,
            self.work_dir / name,
            width=self.params.width,
            height=self.params.height,
            follow_orientation=follow_orientation,
            fit=fit or self.config.delivery.image_fit,
            limits=self.config.limits,
            budget=self.budget,
        )


async def _prepare_images(job: _Preparing) -> None:
    """The image (whose orientation may choose the size) and the end frame, if any."""
    inputs, params = job.request.inputs, job.params
    image = await job.image(inputs.image, "image.png", follow_orientation=not params.size_from_user)
    if (image.width, image.height) != (params.width, params.height):
        job.notes.append(
            f"size {image.width}x{image.height} chosen to follow the photo's orientation."
        )
        params.width, params.height = image.width, image.height
    job.files["image"] = image.path
    if inputs.end is not None:
        # The first frame has decided the size.
        job.files["end"] = (await job.image(inputs.end, "end.png")).path


async def _prepare_talk(job: _Preparing) -> None:
    """InfiniteTalk: the speech as 16 kHz WAV; the video is as long as it."""
    assert job.request.inputs.audio is not None
    limits = job.config.limits
    audio = await prepare_audio(job.request.inputs.audio, job.work_dir / "audio.wav", limits=limits)
    if audio.was_cut:
        job.notes.append(cut_note(audio, limits.max_audio_seconds))
    job.params.frames = frames_for_duration(audio.duration, job.params.fps)
    job.files["audio"] = audio.path


async def _guide_clip(job: _Preparing, what: str) -> PreparedFrames:
    """The frames that move the person (`what`: "pose", "motion") as the job's clip,
    `pose.mp4`; the video is as long as the clip allows."""
    inputs, params, limits = job.request.inputs, job.params, job.config.limits
    clip = await prepare_frames(
        inputs.pose, job.work_dir / "pose.mp4", width=params.width, height=params.height,
        fps=params.fps, limits=limits, what=what, fit=job.config.delivery.image_fit,
        budget=job.budget,
    )  # fmt: skip
    if clip.was_cut:
        job.notes.append(f"the {what} video was cut to its first {clip.count} frames.")
    frames = frames_for_count(clip.count, limits.max_frames)
    if frames != clip.count:
        why = (
            "Wan needs 4n+1 frames"
            if clip.count <= limits.max_frames
            else f"the limit is {limits.max_frames} frames"
        )
        job.notes.append(f"using the first {frames} of the {clip.count} {what} frames ({why}).")
    params.frames = frames
    job.files["pose"] = [clip.path]
    return clip


async def _prepare_animate2(job: _Preparing) -> None:
    """Wan-Animate-2: the video of a person moving as a clip; no pose step."""
    await _guide_clip(job, "motion")


async def _prepare_animate(job: _Preparing) -> None:
    """WanAnimate: the pose frames (and face frames) as clips, the background; the video is as
    long as the pose clip allows."""
    inputs, params, limits = job.request.inputs, job.params, job.config.limits
    pose = await _guide_clip(job, "pose")
    if inputs.face:
        face = await prepare_frames(
            inputs.face, job.work_dir / "face.mp4", width=FACE_SIZE, height=FACE_SIZE,
            fps=params.fps, limits=limits, what="face", budget=job.budget,
        )  # fmt: skip
        await check_matching(pose, face)
        job.files["face"] = [face.path]
    if inputs.background is not None:
        background = await job.image(inputs.background, "background.png", fit="crop")
        job.files["background"] = background.path


# What each mode prepares beyond the image (image to video: nothing).
_BY_MODE: dict[Mode, Callable[[_Preparing], Awaitable[None]]] = {
    Mode.INFINITETALK: _prepare_talk,
    Mode.ANIMATE: _prepare_animate,
    Mode.ANIMATE2: _prepare_animate2,
}


def _copy(src: Path, dest: Path) -> Path:
    try:
        shutil.copyfile(src, dest)
    except FileNotFoundError as exc:
        raise InputError(f"The file {src.name} is no longer available; send it again.") from exc
    return dest


def _copy_inputs(inputs: InputFiles, folder: Path) -> InputFiles:
    folder.mkdir(parents=True, exist_ok=True)

    def one(path: Path, stem: str) -> Path:
        return _copy(path, folder / f"{stem}{path.suffix.lower()}")

    return InputFiles(
        image=one(inputs.image, "image"),
        audio=None if inputs.audio is None else one(inputs.audio, "audio"),
        pose=[one(p, f"pose_{i:05d}") for i, p in enumerate(inputs.pose)],
        face=[one(p, f"face_{i:05d}") for i, p in enumerate(inputs.face)],
        background=None if inputs.background is None else one(inputs.background, "background"),
        end=None if inputs.end is None else one(inputs.end, "end"),
    )


async def accept_inputs(
    job_dir: Path, ask: Ask, config: Config, schedulers: Sequence[str]
) -> PreparedJob:
    """Copy and prepare a new job's files; `UserError` (and nothing left behind) if unusable."""
    try:
        own = await asyncio.to_thread(_copy_inputs, ask.inputs, job_dir / "input")
        mine = dataclasses.replace(ask, inputs=own)
        return await prepare_job(mine, config, schedulers, job_dir)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, job_dir, True)
        raise


async def accept_request(job_dir: Path, request: JobRequest, config: Config) -> PreparedJob:
    """Copy and prepare an already resolved request (a re-roll of an earlier job)."""
    try:
        own = await asyncio.to_thread(_copy_inputs, request.inputs, job_dir / "input")
        # Notes of the original were about what its user typed; keep only the new ones.
        again = request.model_copy(update={"inputs": own, "notes": []})
        return await prepare_request(again, config, job_dir)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, job_dir, True)
        raise
