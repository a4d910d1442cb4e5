"""Running one job on one host: submit (or re-attach), follow, download, archive.

The engine decides what happens to the job afterwards; this module only does the work and
raises what went wrong (ComfyUI errors, `HostNotReady`, `PromptLost`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.archive import Archive, make_record
from bot.config import Config
from bot.errors import UserError
from bot.hosts import Host
from bot.jobs import Job
from bot.prepare import PreparedJob
from bot.runner import HostNotReady, Submission, submit_job
from comfy.client import ComfyClient
from comfy.errors import (
    AuthError,
    ComfyError,
    ExecutionFailed,
    ExecutionInterrupted,
    HostUnavailable,
    OutputMissing,
    PromptRejected,
)
from comfy.events import ComfyEvent, Started
from comfy.outputs import OutputFile, pick_video

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 4
DOWNLOAD_BACKOFF = 0.25  # seconds before the 2nd attempt; doubles after each failure

ProgressHandler = Callable[[ComfyEvent], Awaitable[None]]
SubmittedHandler = Callable[[Submission], Awaitable[None]]


class PromptLost(ComfyError):
    """After a restart, the host no longer knows the job's prompt: it has to run again."""


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
    on_submitted: SubmittedHandler,
    on_generated: Callable[[], None] = lambda: None,
) -> Collected:
    """Run `job` on `host` to a downloaded video.

    A job that already has a `prompt_id` (the engine restarted while it ran) is re-attached:
    followed to the end, or fetched when it finished meanwhile. `on_submitted` is awaited as
    soon as ComfyUI accepted a new prompt, so the engine can persist its id; `on_generated`
    is called when the GPU is done with it, before the download, so the host can take the next
    job while this one's video is fetched.
    """
    client = host.client
    if job.prompt_id is None:
        object_info = await host.schema.get(client)
        prepared = PreparedJob(job.request, job.files)
        submission = await submit_job(
            prepared, client, host.config, config, object_info, prefix=f"wanbot_{job.id}"
        )
        await on_submitted(submission)
    else:
        await ensure_known(client, job.prompt_id)
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
    video = await download(client, pick_video(entry), job.input_dir / "result.mp4")
    return Collected(video, gpu_seconds)


async def download(client: ComfyClient, file: OutputFile, dest: Path) -> Path:
    """Fetch a finished video, retrying a few times before giving up.

    The GPU work is done and the file sits in the host's output folder: a failed transfer
    is worth retrying on its own rather than sending the whole job back to the queue.
    """
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            return await client.download(file, dest)
        except HostUnavailable as exc:
            if attempt == DOWNLOAD_ATTEMPTS:
                raise
            log.warning("download of %s failed (%s); retrying", file.filename, exc)
            await asyncio.sleep(DOWNLOAD_BACKOFF * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


async def ensure_known(client: ComfyClient, prompt_id: str) -> None:
    """Raise `PromptLost` unless the host has `prompt_id` queued, running or in its history."""
    if await client.history(prompt_id) is not None:
        return
    queue = await client.queue()
    for key in ("queue_running", "queue_pending"):
        if any(len(item) > 1 and item[1] == prompt_id for item in queue.get(key, [])):
            return
    # It may have finished between the two calls.
    if await client.history(prompt_id) is None:
        raise PromptLost(f"host no longer knows prompt {prompt_id}")


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
