"""Jobs made from earlier ones: a re-roll (same inputs, a new seed) and an extension (the
clip continued from its last frame with the same or a new prompt, delivered joined to it).

Both are checked against today's limits, and only the job's owner (or an admin) may ask; the
same rule says which job a user may cancel. `wanbot generate --from` and `--extend` make their
requests with the same operations (`again_request`, `extended_request`, `from_last_frame`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.chain import shots_of
from bot.config import Config
from bot.engine.jobs import Job, JobStatus
from bot.engine.retention import require_inputs
from bot.engine.slim import Queued
from bot.errors import InputError, UserError
from bot.intake import PreparedJob, accept_request
from bot.media.joins import last_frame, last_frames
from bot.params import random_seed, require_text
from bot.replies import echo
from bot.request import InputFiles, JobRequest, Lineage, Mode
from bot.resolve import resolve_again
from workflows.svi import TAIL_FRAMES

Prepare = Callable[[Path], Awaitable[PreparedJob]]


def owned(old: Job | None, job_id: str, user: str, admin: bool, verb: str) -> Job:
    """The earlier job, if `user` may `verb` it; else a `UserError` saying why."""
    if old is None:
        raise UserError(f"There is no job {echo(job_id)}.")
    if old.user != user and not admin:
        raise UserError(f"Job {job_id} is someone else's; you can only {verb} your own.")
    return old


def newest_active(jobs: Iterable[Job | Queued]) -> Job | Queued:
    """The user's newest queued or running job (what `/cancel` without an id cancels)."""
    own = [j for j in jobs if j.status in (JobStatus.QUEUED, JobStatus.RUNNING)]
    if not own:
        raise UserError("You have no job waiting or running.")
    return max(own, key=lambda j: j.seq)


def cancellable(job: Job | None, job_id: str, user: str, admin: bool) -> Job:
    """`job`, if `user` may cancel it now; else a `UserError` saying why."""
    if job is None:
        raise UserError(f"There is no job {echo(job_id)}.")
    if job.user != user and not admin:
        raise UserError(f"Job {job_id} is someone else's; you can only cancel your own jobs.")
    if job.status is JobStatus.DELIVERING:
        raise UserError(f"Job {job_id} is already finished; its video is on its way.")
    if not job.status.active:
        raise UserError(f"Job {job_id} is already {job.status.value}.")
    return job


async def reroll(old: Job, config: Config, schedulers: Sequence[str]) -> tuple[JobRequest, Prepare]:
    """The same inputs and parameters with a new seed."""
    await require_inputs(old, config.storage.keep_job_files_days)
    request = again_request(old.request, {"seed": random_seed()}, config, schedulers)

    async def prepare(job_dir: Path) -> PreparedJob:
        return await accept_request(job_dir, request, config)

    return request, prepare


async def extend(
    old: Job, prompt: str | None, config: Config, schedulers: Sequence[str], *, svi: bool = False
) -> tuple[JobRequest, Prepare]:
    """The clip continued (with `prompt`, or the old one): a long video's next SVI clip from
    its last latent where `svi` (a host can make it) and its files are still kept, else from
    its last frame."""
    video = old.output
    if old.status is not JobStatus.DONE or video is None or not video.exists():
        video = None
    overrides = {"seed": random_seed(), "length": 0.0}  # one clip more
    request = extended_request(old.request, video, old.id, prompt, overrides, config, schedulers)
    lineage = svi_lineage(old, request) if svi else None
    if lineage is not None:
        request = request.model_copy(update={"extends": lineage})

    async def prepare(job_dir: Path) -> PreparedJob:
        started = request
        if lineage is None:
            started = await from_last_frame(request, job_dir)
        elif lineage.latent is None:  # a one-clip video: SVI picks up from its last frames
            tail = await last_frames(lineage.video, TAIL_FRAMES, job_dir / "from" / "tail.mp4")
            started = request.model_copy(
                update={"extends": lineage.model_copy(update={"tail": tail})}
            )
        return await accept_request(job_dir, started, config)

    return request, prepare


def svi_lineage(old: Job, request: JobRequest) -> Lineage | None:
    """How an extension continues `old` with SVI, anchored on its start image: a long video
    from its last clip's latent, a fast one-clip video (the experts SVI builds on) from its
    last frames. None (the last frame's way) for a standard-quality clip, made with another
    model, or when the files it needs are gone."""
    extends = request.extends
    if extends is None or not old.request.inputs.image.is_file():
        return None
    if old.clips:
        latent = Path(old.clips[-1].latent)
        if not latent.is_file():
            return None
        update = {"svi": True, "latent": latent, "clip": old.clips[-1].index + 1}
        return extends.model_copy(update=update)
    if old.request.params.quality != "fast":
        return None
    return extends.model_copy(update={"svi": True, "clip": 1})


def again_request(
    request: JobRequest, overrides: dict[str, Any], config: Config, schedulers: Sequence[str]
) -> JobRequest:
    """An earlier request made again (a re-roll, `wanbot generate --from`): its parameters
    with `overrides` on top, checked against today's limits (they may have been lowered);
    the notes are only about what changed now."""
    again = resolve_again(request, overrides, config, schedulers)
    update = {"params": again.params, "negative_prompt": again.negative_prompt}
    return request.model_copy(update={**update, "notes": again.notes})


def extended_request(
    request: JobRequest,
    video: Path | None,
    origin: str,
    prompt: str | None,
    overrides: dict[str, Any],
    config: Config,
    schedulers: Sequence[str],
) -> JobRequest:
    """`request` continued: the same parameters (with `overrides`), `prompt` or its own, to be
    started from the last frame of `video` (the clip of `origin`, a job id); `from_last_frame`
    fetches that frame. `video` None: the clip is not in the archive (any more)."""
    if request.mode is not Mode.I2V:
        raise UserError("Only image-to-video clips can be extended.")
    if video is None or not video.is_file():
        raise InputError(
            f"The video of job {origin} is not in the archive (any more), so it cannot be "
            "extended. Extend a finished video, or make a new one."
        )
    text = (prompt or "").strip() or shots_of(request.prompt)[-1]  # a story goes on
    require_text("prompt", text)
    base = request.model_copy(update={"prompt": text})
    lineage = Lineage(job_id=origin, video=video.resolve())
    return again_request(base, overrides, config, schedulers).model_copy(
        update={"extends": lineage}
    )


async def from_last_frame(request: JobRequest, work_dir: Path) -> JobRequest:
    """An extension's request with the last frame of the clip it continues as its image."""
    assert request.extends is not None
    frame = await last_frame(request.extends.video, work_dir / "from" / "last.png")
    return request.model_copy(update={"inputs": InputFiles(image=frame)})
