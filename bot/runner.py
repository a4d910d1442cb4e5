"""The one run path: a prepared job on one ComfyUI host, from its workflow to its video.

`run_job` serves both `wanbot generate` and the engine (`bot.engine.runs`). Top to bottom:

1. re-attach: a `prompt_id` the host still has is followed, not sent again (engine restart);
2. stage: build the workflow, check it against the host's live schema, upload the inputs and
   pick the prompt's id (a UUID). `Hooks.on_staged` hears it before the host gets anything,
   so the engine commits the id first: a crash can never run a job twice;
3. send: queue the prompt under that id (`Hooks.on_submitted`);
4. follow it to its end with progress (`Hooks.on_event`); `Hooks.on_generated` says the GPU
   is done, so the engine can give the host its next job during the download;
5. fetch the video (`bot.fetch`): once the prompt finished, only fetches are repeated, for a
   bounded time; a finished prompt is never sent again.

It knows ComfyUI and the workflow builder, not the engine's jobs and hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.config import Config, HostConfig
from bot.errors import WanBotError
from bot.fetch import FETCH_WINDOW, fetch_result
from bot.intake import PreparedJob
from comfy import (
    ComfyClient,
    ComfyEvent,
    HistoryEntry,
    Started,
    unique_upload_name,
)
from comfy.errors import ComfyError, ResultUnreadable
from workflows.animate2 import build_animate2_prompt
from workflows.builder import build_prompt
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.native import backend_of, build_native_prompt
from workflows.native_animate import build_native_animate_prompt
from workflows.native_talk import build_native_talk_prompt
from workflows.params import Mode
from workflows.svi import build_svi_clip
from workflows.validate import WorkflowInvalid, check_prompt

log = logging.getLogger(__name__)

EventHandler = Callable[[ComfyEvent], Awaitable[None] | None]


class HostNotReady(WanBotError):
    """The host lacks a node class or model file this job needs (an operator problem)."""


@dataclass(frozen=True)
class HostSetup:
    """What a prompt is built from on one host: its models, its hardware, its live schema."""

    name: str
    models: Models
    hardware: Hardware
    object_info: dict[str, Any]
    preview: str = "none"  # ComfyUI's preview_method for this host's prompts
    backend: str = "wrapper"  # "wrapper" or "native" (`workflows.native.backend_of`)

    @classmethod
    def of(cls, host: HostConfig, config: Config, object_info: dict[str, Any]) -> HostSetup:
        models = host.resolved_models(config.models)
        backend = backend_of(object_info, host.backend)
        hardware = host.resolved_hardware()
        return cls(host.name, models, hardware, object_info, host.preview, backend)

    @property
    def extra_data(self) -> dict[str, Any]:
        """What a prompt for this host carries beside its graph: the preview method, unless
        previews are off (then nothing, and the host sends none)."""
        return {} if self.preview == "none" else {"preview_method": self.preview}


@dataclass(frozen=True)
class Submission:
    prompt_id: str
    workflow: dict[str, Any]
    uploaded: FileSet[str]
    extra_data: dict[str, Any] = dataclasses.field(default_factory=dict)


async def _nothing(_: object) -> None:
    return None


@dataclass(frozen=True)
class Hooks:
    """What a caller of `run_job` hears, in this order; every hook is optional.

    - `on_staged`: the new prompt's id and workflow, before the host gets them; raising
      stops the run with nothing sent.
    - `on_submitted`: the prompt as the host filed it (an old ComfyUI picks its own id).
    - `on_event`: each progress event of the prompt.
    - `on_generated`: the GPU is done with the prompt; the download follows.
    - `on_cancelled`: the run was cancelled once its prompt was sent, or while it was being
      sent (the host's answer is awaited first); gets the prompt's id. The CLI cancels the
      prompt there. Without it (the engine) the prompt runs on, to be re-attached later.
    """

    on_staged: Callable[[Submission], Awaitable[None]] = _nothing
    on_submitted: Callable[[Submission], Awaitable[None]] = _nothing
    on_event: EventHandler | None = None
    on_generated: Callable[[], None] = lambda: None
    on_cancelled: Callable[[str], Awaitable[None]] | None = None


@dataclass(frozen=True)
class RunResult:
    """A job's downloaded video, not archived yet."""

    video: Path
    gpu_seconds: float
    started_at: datetime  # when the GPU began the prompt
    prompt_id: str
    workflow: dict[str, Any] | None  # None when re-attached: the prompt was built before


async def run_job(
    job: PreparedJob,
    client: ComfyClient,
    setup: HostSetup,
    dest: Path,
    *,
    prefix: str = "wanbot",
    prompt_id: str | None = None,
    hooks: Hooks | None = None,
    uploaded_ahead: Mapping[Path, str] | None = None,
    fetch_window: float = FETCH_WINDOW,
) -> RunResult:
    """Run `job` on `client`'s host and download its video to `dest` (see the module).

    With `prompt_id` (a prompt sent before a restart) the run re-attaches to that prompt if
    the host has it, and stages the job again if not. `prefix` names the host's output file;
    `uploaded_ahead` are inputs already on the host (`stage_job`); `fetch_window` bounds the
    fetching of a finished video. Raises ComfyUI's errors (`comfy.errors`), `HostNotReady`
    or `bot.fetch.VideoNotFetched`.
    """
    hooks = hooks or Hooks()
    workflow: dict[str, Any] | None = None
    if prompt_id is None or not await _on_host(client, prompt_id):
        staged = await stage_job(job, client, setup, prefix=prefix, uploaded_ahead=uploaded_ahead)
        await hooks.on_staged(staged)
        filed = await _send(client, staged, hooks)
        prompt_id, workflow = filed.prompt_id, filed.workflow
    entry, gpu_seconds = await _follow(client, prompt_id, hooks)
    started_at = datetime.now(UTC) - timedelta(seconds=gpu_seconds)
    hooks.on_generated()
    where = (setup.name, prompt_id)
    video = await fetch_result(client, where, entry, dest, window=fetch_window)
    return RunResult(video, gpu_seconds, started_at, prompt_id, workflow)


async def _on_host(client: ComfyClient, prompt_id: str) -> bool:
    """Whether the host has a prompt sent before a restart."""
    if await client.lookup(prompt_id) is not None:
        return True
    # We cannot tell a prompt that never reached the host from one a ComfyUI restart
    # forgot: either way it runs now, in the same attempt (a restart of ours cut it short).
    log.warning("host %s does not have prompt %s; submitting it", client.base_url, prompt_id)
    return False


async def _send(client: ComfyClient, staged: Submission, hooks: Hooks) -> Submission:
    """Queue the staged prompt; with `on_cancelled`, a cancel never abandons the POST.

    The prompt may already be on the host when the cancel comes: its answer is awaited
    (bounded by the request timeout) and `on_cancelled` gets the id it was filed under.
    """
    sending = asyncio.ensure_future(send(client, staged))
    try:
        filed = await (sending if hooks.on_cancelled is None else asyncio.shield(sending))
    except asyncio.CancelledError:
        if hooks.on_cancelled is not None:
            with contextlib.suppress(ComfyError):  # the host refused it: nothing to cancel
                filed = await sending
                await hooks.on_cancelled(filed.prompt_id)
        raise
    await hooks.on_submitted(filed)
    return filed


async def _follow(
    client: ComfyClient, prompt_id: str, hooks: Hooks
) -> tuple[HistoryEntry | None, float]:
    """Follow the prompt to its end: its history entry (None when the prompt finished but
    reading it failed: `fetch_result` reads it again) and the seconds the GPU spent on it."""
    began = time.monotonic()
    started: list[float] = []

    def handle(event: ComfyEvent) -> Awaitable[None] | None:
        if isinstance(event, Started) and not started:
            started.append(time.monotonic())
        return None if hooks.on_event is None else hooks.on_event(event)

    entry: HistoryEntry | None
    try:
        entry = await client.follow(prompt_id, handle)
    except ResultUnreadable as exc:
        log.warning("%s", exc)
        entry = None
    except asyncio.CancelledError:
        if hooks.on_cancelled is not None:
            await hooks.on_cancelled(prompt_id)
        raise
    return entry, time.monotonic() - (started[0] if started else began)


def plan_uploads(job: PreparedJob, name_for: Callable[[Path], str]) -> FileSet[str]:
    """The names each prepared file will have on the host."""
    return job.files.map(name_for)


# The modes ComfyUI's own nodes make, and their graphs; long videos (SVI) need the wrapper.
NATIVE_GRAPHS = {
    Mode.I2V: build_native_prompt,
    Mode.INFINITETALK: build_native_talk_prompt,
    Mode.ANIMATE: build_native_animate_prompt,
}


def build_workflow(
    job: PreparedJob, setup: HostSetup, uploaded: FileSet[str], prefix: str = "wanbot"
) -> dict[str, Any]:
    """The API-format prompt for `job` with the host's models and hardware preset (a clip of a
    long video: its SVI clip)."""
    request = job.request
    if request.mode is Mode.ANIMATE2:  # ComfyUI's own nodes on every host
        return build_animate2_prompt(
            request, uploaded, setup.models, setup.hardware, filename_prefix=prefix
        )
    if setup.backend == "native":
        native = NATIVE_GRAPHS.get(request.mode)
        if native is None or request.clip is not None:
            raise HostNotReady(
                f"Host {setup.name} runs ComfyUI's own nodes (no ComfyUI-WanVideoWrapper), "
                f"which make {', '.join(m.value for m in NATIVE_GRAPHS)} but no "
                f"{'long videos' if request.clip is not None else request.mode.value}"
            )
        return native(request, uploaded, setup.models, setup.hardware, filename_prefix=prefix)
    if request.clip is not None:
        return build_svi_clip(
            request,
            uploaded,
            setup.models,
            setup.hardware,
            clip_index=request.clip,
            previous_latent=uploaded.latent,
            previous_frames=uploaded.tail,
            filename_prefix=prefix,
        )
    return build_prompt(request, uploaded, setup.models, setup.hardware, filename_prefix=prefix)


def ensure_runnable(workflow: dict[str, Any], object_info: dict[str, Any], host: str) -> None:
    """Raise `HostNotReady` naming every missing node class or model file."""
    try:
        check_prompt(workflow, object_info)
    except WorkflowInvalid as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise HostNotReady(f"Host {host} cannot run this workflow: {problems}") from exc


def _fresh_names(job: PreparedJob) -> dict[Path, str]:
    """A new upload name for each of the job's files (a file used twice gets one)."""
    return {path: unique_upload_name(path.name) for path in job.files.all()}


async def upload_inputs(job: PreparedJob, client: ComfyClient) -> dict[Path, str]:
    """Upload the job's prepared files; the names the host stored each one under."""
    return {path: await client.upload(path, name) for path, name in _fresh_names(job).items()}


async def stage_job(
    job: PreparedJob,
    client: ComfyClient,
    setup: HostSetup,
    *,
    prefix: str = "wanbot",
    uploaded_ahead: Mapping[Path, str] | None = None,
) -> Submission:
    """Validate against the host's schema and upload the inputs; nothing is queued yet.

    `uploaded_ahead`: the stored names of files `upload_inputs` sent to this host earlier
    (while it ran another job); they are not sent again. The submission carries a new prompt
    id (a UUID) for `send` to queue the prompt under.
    """
    if uploaded_ahead is not None and all(p in uploaded_ahead for p in job.files.all()):
        names, ahead = dict(uploaded_ahead), True
    else:
        names, ahead = _fresh_names(job), False
    uploaded = plan_uploads(job, names.__getitem__)
    workflow = build_workflow(job, setup, uploaded, prefix)
    ensure_runnable(workflow, setup.object_info, setup.name)
    if not ahead:
        stored = {path: await client.upload(path, name) for path, name in names.items()}
        if stored != names:
            # The host stored a file under another name: bind the workflow to that name.
            uploaded = plan_uploads(job, stored.__getitem__)
            workflow = build_workflow(job, setup, uploaded, prefix)
    return Submission(str(uuid.uuid4()), workflow, uploaded, setup.extra_data)


async def send(client: ComfyClient, submission: Submission) -> Submission:
    """Queue a staged prompt under its id; returns the submission as the host filed it.

    A ComfyUI too old to take the client's id answers with its own: that one is returned.
    """
    prompt_id = await client.submit(
        submission.workflow, prompt_id=submission.prompt_id, extra_data=submission.extra_data
    )
    if prompt_id == submission.prompt_id:
        return submission
    log.warning("host %s filed prompt %s as %s", client.base_url, submission.prompt_id, prompt_id)
    return dataclasses.replace(submission, prompt_id=prompt_id)


async def submit_job(
    job: PreparedJob, client: ComfyClient, setup: HostSetup, *, prefix: str = "wanbot"
) -> Submission:
    """Stage and send in one go, without following (benchmarks and scripts)."""
    return await send(client, await stage_job(job, client, setup, prefix=prefix))
