"""Jobs made from earlier ones: a re-roll (same inputs, a new seed) and an extension (the
clip continued from its last frame with the same or a new prompt, delivered joined to it).

Both are checked against today's limits, and only the job's owner (or an admin) may ask; the
same rule says which job a user may cancel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path

from bot.config import Config
from bot.engine.jobs import Job, JobStatus
from bot.engine.retention import require_inputs
from bot.errors import InputError, UserError
from bot.intake import PreparedJob, accept_request
from bot.media.joins import last_frame
from bot.params import random_seed, require_text, resolve_again
from bot.replies import echo
from bot.request import InputFiles, JobRequest, Lineage, Mode

Prepare = Callable[[Path], Awaitable[PreparedJob]]


def owned(old: Job | None, job_id: str, user: str, admin: bool, verb: str) -> Job:
    """The earlier job, if `user` may `verb` it; else a `UserError` saying why."""
    if old is None:
        raise UserError(f"There is no job {echo(job_id)}.")
    if old.user != user and not admin:
        raise UserError(f"Job {job_id} is someone else's; you can only {verb} your own.")
    return old


def newest_active(jobs: Iterable[Job]) -> Job:
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
    request = _again(old.request, config, schedulers)

    async def prepare(job_dir: Path) -> PreparedJob:
        return await accept_request(job_dir, request, config)

    return request, prepare


async def extend(
    old: Job, prompt: str | None, config: Config, schedulers: Sequence[str]
) -> tuple[JobRequest, Prepare]:
    """The clip continued from its last frame (with `prompt`, or the old one)."""
    if old.mode is not Mode.I2V:
        raise UserError("Only image-to-video clips can be extended.")
    video = old.output
    if old.status is not JobStatus.DONE or video is None or not video.exists():
        raise InputError(
            f"The video of job {old.id} is not in the archive (any more), so it cannot be "
            "extended. Extend a finished video, or make a new one."
        )
    text = (prompt or "").strip() or old.request.prompt
    require_text("prompt", text)
    base = old.request.model_copy(update={"prompt": text, "notes": []})
    request = _again(base, config, schedulers).model_copy(
        update={"extends": Lineage(job_id=old.id, video=video)}
    )

    async def prepare(job_dir: Path) -> PreparedJob:
        frame = await last_frame(video, job_dir / "from" / "last.png")
        inputs = InputFiles(image=frame)
        return await accept_request(job_dir, request.model_copy(update={"inputs": inputs}), config)

    return request, prepare


def _again(request: JobRequest, config: Config, schedulers: Sequence[str]) -> JobRequest:
    # Checked against today's limits: they may have been lowered since.
    again = resolve_again(request, {"seed": random_seed()}, config, schedulers)
    update = {"params": again.params, "negative_prompt": again.negative_prompt}
    return request.model_copy(update=update)
