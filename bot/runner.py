"""Run one prepared job on one ComfyUI host: check, upload, submit, follow, download.

Submission is split so that the engine can commit the prompt id before the host has the
prompt (a crash in between must not run it twice): `stage_job` checks, uploads and picks
the prompt's id; `send` queues it under that id. `submit_job` chains the two (benchmarks, scripts).
`collect_result` follows the prompt to the end and fetches its video with `fetch_video`,
which retries a transfer that failed or came back as something that is not a whole video.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config, HostConfig
from bot.errors import InputError, WanBotError
from bot.media.video import probe
from bot.prepare import PreparedJob
from comfy import ComfyClient, ComfyEvent, OutputFile, pick_video, unique_upload_name
from comfy.errors import DownloadIncomplete, HostUnavailable
from workflows.builder import UploadedInputs, build_prompt
from workflows.validate import WorkflowInvalid, check_prompt

log = logging.getLogger(__name__)

EventHandler = Callable[[ComfyEvent], Awaitable[None] | None]

DOWNLOAD_ATTEMPTS = 4
DOWNLOAD_BACKOFF = 0.25  # seconds before the 2nd attempt; doubles after each failure


class HostNotReady(WanBotError):
    """The host lacks a node class or model file this job needs (an operator problem)."""


class VideoIncomplete(WanBotError):
    """The finished video never arrived whole, however often it was fetched."""

    def __init__(self, attempts: int) -> None:
        super().__init__(
            f"The video was made, but it could not be downloaded whole from the GPU host "
            f"({attempts} tries). Please try again later."
        )


@dataclass
class SchemaCache:
    """A host's `/object_info`, fetched at most once per `ttl` seconds."""

    ttl: float
    _value: dict[str, Any] | None = None
    _fetched: float = 0.0

    async def get(self, client: ComfyClient) -> dict[str, Any]:
        if self._value is None or time.monotonic() - self._fetched > self.ttl:
            self._value = await client.object_info()
            self._fetched = time.monotonic()
        return self._value

    def clear(self) -> None:
        self._value = None


@dataclass(frozen=True)
class Submission:
    prompt_id: str
    workflow: dict[str, Any]
    uploaded: UploadedInputs


def plan_uploads(job: PreparedJob, name_for: Callable[[Path], str]) -> UploadedInputs:
    """The names each prepared file will have on the host."""
    files = job.files

    def opt(path: Path | None) -> str | None:
        return None if path is None else name_for(path)

    return UploadedInputs(
        image=name_for(files.image),
        audio=opt(files.audio),
        pose_video=opt(files.pose_video),
        face_video=opt(files.face_video),
        background=opt(files.background),
    )


def build_workflow(
    job: PreparedJob,
    host: HostConfig,
    config: Config,
    uploaded: UploadedInputs,
    prefix: str = "wanbot",
) -> dict[str, Any]:
    """The API-format prompt for `job` on `host` (its models and hardware preset)."""
    models = host.resolved_models(config.models)
    return build_prompt(
        job.request, uploaded, models, host.resolved_hardware(), filename_prefix=prefix
    )


def ensure_runnable(workflow: dict[str, Any], object_info: dict[str, Any], host: str) -> None:
    """Raise `HostNotReady` naming every missing node class or model file."""
    try:
        check_prompt(workflow, object_info)
    except WorkflowInvalid as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise HostNotReady(f"Host {host} cannot run this workflow: {problems}") from exc


async def stage_job(
    job: PreparedJob,
    client: ComfyClient,
    host: HostConfig,
    config: Config,
    object_info: dict[str, Any],
    *,
    prefix: str = "wanbot",
) -> Submission:
    """Validate against the host's schema and upload the inputs; nothing is queued yet.

    The submission carries a new prompt id (a UUID) for `send` to queue the prompt under.
    """
    planned: dict[Path, str] = {}

    def name_for(path: Path) -> str:
        return planned.setdefault(path, unique_upload_name(path.name))

    uploaded = plan_uploads(job, name_for)
    workflow = build_workflow(job, host, config, uploaded, prefix)
    ensure_runnable(workflow, object_info, host.name)
    stored = {path: await client.upload(path, name) for path, name in planned.items()}
    if stored != planned:
        # The host stored a file under another name: bind the workflow to that name.
        uploaded = plan_uploads(job, stored.__getitem__)
        workflow = build_workflow(job, host, config, uploaded, prefix)
    return Submission(str(uuid.uuid4()), workflow, uploaded)


async def send(client: ComfyClient, submission: Submission) -> Submission:
    """Queue a staged prompt under its id; returns the submission as the host filed it.

    A ComfyUI too old to take the client's id answers with its own: that one is returned.
    """
    prompt_id = await client.submit(submission.workflow, prompt_id=submission.prompt_id)
    if prompt_id == submission.prompt_id:
        return submission
    log.warning("host %s filed prompt %s as %s", client.base_url, submission.prompt_id, prompt_id)
    return dataclasses.replace(submission, prompt_id=prompt_id)


async def submit_job(
    job: PreparedJob,
    client: ComfyClient,
    host: HostConfig,
    config: Config,
    object_info: dict[str, Any],
    *,
    prefix: str = "wanbot",
) -> Submission:
    """Validate against the host's schema, upload the inputs, queue the prompt."""
    staged = await stage_job(job, client, host, config, object_info, prefix=prefix)
    return await send(client, staged)


async def collect_result(
    client: ComfyClient,
    prompt_id: str,
    dest: Path,
    on_event: EventHandler | None = None,
) -> Path:
    """Follow `prompt_id` to the end and download its video to `dest`."""
    entry = await client.follow(prompt_id, on_event)
    return await fetch_video(client, pick_video(entry), dest)


async def fetch_video(
    client: ComfyClient, file: OutputFile, dest: Path, *, backoff: float = DOWNLOAD_BACKOFF
) -> Path:
    """Download a finished video and check that it is one, retrying a few times.

    The GPU work is done and the file sits in the host's output folder: a failed or damaged
    transfer is worth repeating on its own. Raises `VideoIncomplete` when every attempt
    came back damaged, `HostUnavailable` when the host stayed unreachable.
    """
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            await client.download(file, dest)
            await _check_video(client, file, dest)
            return dest
        except HostUnavailable as exc:
            log.warning("download %d of %s failed: %s", attempt, file.filename, exc)
            if attempt == DOWNLOAD_ATTEMPTS:
                if isinstance(exc, DownloadIncomplete):
                    raise VideoIncomplete(attempt) from exc
                raise
            await asyncio.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


async def _check_video(client: ComfyClient, file: OutputFile, path: Path) -> None:
    """Raise `DownloadIncomplete` unless `path` opens as a video (a cut-off MP4 does not)."""
    try:
        await probe(path)
    except InputError as exc:
        size = (await asyncio.to_thread(path.stat)).st_size
        await asyncio.to_thread(path.unlink, missing_ok=True)
        raise DownloadIncomplete(client.base_url, file.filename, size) from exc
