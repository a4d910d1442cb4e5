"""Run one prepared job on one ComfyUI host: check, upload, submit, follow, download.

Split in two steps so the engine can persist the prompt id between them: `submit_job`
returns once ComfyUI has accepted the prompt; `collect_result` follows it to the end and
downloads the video. Both are usable on their own (the CLI chains them).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Config, HostConfig
from bot.errors import WanBotError
from bot.prepare import PreparedJob
from comfy import ComfyClient, ComfyEvent, pick_video, unique_upload_name
from workflows.builder import UploadedInputs, build_prompt
from workflows.validate import WorkflowInvalid, check_prompt

EventHandler = Callable[[ComfyEvent], Awaitable[None] | None]


class HostNotReady(WanBotError):
    """The host lacks a node class or model file this job needs (an operator problem)."""


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
    prompt_id = await client.submit(workflow)
    return Submission(prompt_id, workflow, uploaded)


async def collect_result(
    client: ComfyClient,
    prompt_id: str,
    dest: Path,
    on_event: EventHandler | None = None,
) -> Path:
    """Follow `prompt_id` to the end and download its video to `dest`."""
    entry = await client.follow(prompt_id, on_event)
    video = pick_video(entry)
    return await client.download(video, dest)
