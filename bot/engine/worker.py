"""Running one job on one host: submit (or re-attach), follow, download, archive.

The engine decides what happens to the job afterwards; this module only does the work and
raises what went wrong (ComfyUI errors, `HostNotReady`, `PromptLost`, `VideoIncomplete`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.archive import Archive, make_record
from bot.config import Config
from bot.engine.hosts import Host
from bot.engine.jobs import Job
from bot.errors import UserError
from bot.prepare import PreparedJob
from bot.runner import HostNotReady, Submission, VideoIncomplete, fetch_video, send, stage_job
from comfy.client import ComfyClient
from comfy.errors import (
    AuthError,
    ExecutionFailed,
    ExecutionInterrupted,
    HostError,
    HostUnavailable,
    OutputMissing,
    PromptLost,
    PromptRejected,
)
from comfy.events import ComfyEvent, Started
from comfy.outputs import pick_video

log = logging.getLogger(__name__)

ProgressHandler = Callable[[ComfyEvent], Awaitable[None]]
SubmittedHandler = Callable[[Submission], Awaitable[None]]


@dataclass(frozen=True)
class Collected:
    """A downloaded result, not yet archived."""

    video: Path
    gpu_seconds: float


async def execute(
    job: Job,
    host: Host,
    config: Config,
    on_event: ProgressHandler,
    on_staged: SubmittedHandler,
    on_submitted: SubmittedHandler,
    on_generated: Callable[[], None] = lambda: None,
) -> Collected:
    """Run `job` on `host` to a downloaded video.

    `on_staged` is awaited with the new prompt's id and workflow before the host gets them,
    so the engine commits the id first: a crash can then never leave a prompt on a host
    without the engine knowing its id. `on_submitted` is awaited once the host accepted it.
    A job that already has a `prompt_id` (the engine restarted) is re-attached when the host
    has that prompt: followed to the end, or fetched when it finished meanwhile. When the
    host does not know it (the engine stopped before sending it, or ComfyUI restarted too),
    it is submitted now. `on_generated` is called when the GPU is done with the prompt,
    before the download, so the host can take the next job while this video is fetched.
    """
    client = host.client
    if job.prompt_id is None or not await _on_host(client, job.id, job.prompt_id):
        staged = await stage_job(
            PreparedJob(job.request, job.files),
            client,
            host.config,
            config,
            await host.schema.get(client),
            prefix=f"wanbot_{job.id}",
        )
        await on_staged(staged)
        await on_submitted(await send(client, staged))
    assert job.prompt_id is not None
    began = time.monotonic()
    started: list[float] = []

    async def handle(event: ComfyEvent) -> None:
        if isinstance(event, Started) and not started:
            started.append(time.monotonic())
        await on_event(event)

    entry = await client.follow(job.prompt_id, handle)
    gpu_seconds = time.monotonic() - (started[0] if started else began)
    on_generated()
    video = await fetch_video(client, pick_video(entry), job.input_dir / "result.mp4")
    return Collected(video, gpu_seconds)


async def _on_host(client: ComfyClient, job_id: str, prompt_id: str) -> bool:
    """Whether the host has the prompt a restarted engine found committed for `job_id`."""
    if await client.lookup(prompt_id) is not None:
        return True
    # We cannot tell a prompt that never reached the host from one a ComfyUI restart
    # forgot: either way it runs now, in the same attempt (a restart of ours cut it short).
    log.warning(
        "job %s: host %s does not have prompt %s; submitting it", job_id, client.base_url, prompt_id
    )
    return False


def verdict(exc: Exception, job: Job, host: str) -> tuple[bool, str]:
    """What a job's failure means: (run it again?, why / what to tell the user).

    Lost hosts and lost prompts are retried; everything else fails the job with a message
    the user can act on. Unexpected errors are logged here with their traceback and the user
    only gets the job id.
    """
    if isinstance(exc, HostUnavailable | AuthError):
        return True, f"host {host} unreachable: {exc}"
    if isinstance(exc, PromptLost):
        return True, str(exc)
    if isinstance(exc, HostError):
        # ComfyUI itself failed (a 5xx): worth another run, within `max_attempts`.
        log.warning("job %s: host %s answered with an error: %s", job.id, host, exc)
        return True, f"host {host} answered with an error: {exc}"
    if isinstance(exc, VideoIncomplete):
        return False, str(exc)
    if isinstance(exc, ExecutionFailed):
        return False, f"The video could not be made: {exc}"
    if isinstance(exc, ExecutionInterrupted):
        return False, "The job was stopped on the GPU host before it finished."
    if isinstance(exc, PromptRejected | HostNotReady):
        log.error("job %s cannot run on %s: %s", job.id, host, exc)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return False, (
            f"The GPU host {host} is not set up for this job, so it was not run; "
            f"an operator has to fix the host. Details: {first}"
        )
    if isinstance(exc, OutputMissing):
        return False, "ComfyUI finished the job but produced no video."
    if isinstance(exc, UserError):
        return False, str(exc)
    log.error("job %s failed on %s", job.id, host, exc_info=exc)
    return False, f"Something went wrong with job {job.id}; it has been logged."


async def archive_result(
    job: Job, host: Host, config: Config, archive: Archive, collected: Collected
) -> Path:
    """Save the video with a full record; returns the archived MP4's path."""
    record = await make_record(
        collected.video,
        job.request,
        host.config,
        config,
        job_id=job.id,
        prompt_id=job.prompt_id,
        workflow=job.workflow,
        queued_at=datetime.fromtimestamp(job.created_at, UTC),
        started_at=None if job.started_at is None else datetime.fromtimestamp(job.started_at, UTC),
        gpu_seconds=collected.gpu_seconds,
    )
    return await archive.save(collected.video, record)
