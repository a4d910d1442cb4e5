"""The jobs running on hosts: start one, follow it, stop it, and settle how it ended.

Each run is a task that runs the job on its host through the run path (`bot.runner.run_job`,
which also re-attaches after a restart), commits its prompt id (before the host gets the
prompt) and progress, and then hands the video to `Deliveries`, sends the job back to the
queue (its host was lost, or forgot the prompt) or fails it (`verdict` says which). Whatever
the ending, the run's host slot and per-user count are released and the dispatcher is woken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.chain import clip_files, fetch_latent, plan_chain
from bot.config import Config
from bot.engine.chains import Chains, next_run, position
from bot.engine.delivery import Deliveries
from bot.engine.events import JobPreview, JobProgress, JobStarted
from bot.engine.hosts import Host, HostPool
from bot.engine.jobs import Job, JobStatus
from bot.engine.ledger import Ledger
from bot.engine.prefetch import Prefetch, Uploads, uploaded
from bot.engine.slim import Queued
from bot.engine.store import JobStore
from bot.errors import LostLeadership, UserError
from bot.fetch import VideoNotFetched
from bot.logs import JOB_CONTEXT
from bot.runner import (
    Hooks,
    HostNotReady,
    HostSetup,
    RunResult,
    Submission,
    run_job,
)
from comfy.errors import (
    AuthError,
    ComfyError,
    ExecutionFailed,
    ExecutionInterrupted,
    HostError,
    HostUnavailable,
    OutputMissing,
    PromptLost,
    PromptRejected,
)
from comfy.events import ComfyEvent, Preview, Progress

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


# What starting a run changes in a job's row.
STARTED = (
    "status",
    "host",
    "started_at",
    "attempts",
    "progress",
    "progress_step",
    "progress_steps",
)


class Halt(StrEnum):
    """Why the engine cancelled a job's task."""

    HOST_LOST = "host lost"
    CANCELLED = "cancelled"


class Halted(Exception):
    """The job was cancelled while its prompt was being staged: it is not sent."""


@dataclass(eq=False)
class Run:
    job_id: str
    user: str
    job: Job | None  # None while a queued job is read whole from the store
    host: Host
    reattach: bool
    task: asyncio.Task[None] | None = None
    halt: Halt | None = None
    uploads: Uploads | None = None  # its inputs, uploaded ahead while the host was busy


class Runs:
    """The runs in progress, by job id."""

    def __init__(
        self,
        *,
        config: Config,
        store: JobStore,
        hosts: HostPool,
        ledger: Ledger,
        delivery: Deliveries,
        wake: asyncio.Event,
        spawn: Spawn,
        prefetch: Prefetch,
        chains: Chains,
    ) -> None:
        self._config = config
        self._store = store
        self._hosts = hosts
        self._ledger = ledger
        self._delivery = delivery
        self._wake = wake
        self._spawn = spawn
        self._prefetch = prefetch
        self._chains = chains
        self._runs: dict[str, Run] = {}
        self._by_user: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._runs)

    def jobs(self) -> Iterator[Job]:
        return (r.job for r in self._runs.values() if r.job is not None)

    def running_for(self, user: str) -> int:
        return self._by_user[user]

    def start(self, job: Job | Queued, host: Host, *, reattach: bool) -> None:
        """Run `job` on `host`; `reattach` follows a prompt submitted before a restart. A job
        held as its record takes its place on the host now and is read whole first."""
        whole = job if isinstance(job, Job) else None
        if whole is not None and not reattach:
            _begin(whole, host)
        host.running.add(job.id)
        host.last_mode = job.mode
        self._by_user[job.user] += 1
        uploads = self._prefetch.claim(host.name, job.id)
        run = Run(job.id, job.user, whole, host, reattach, uploads=uploads)
        self._runs[job.id] = run
        run.task = self._spawn(self._run(run), f"job-{job.id}")

    def host_down(self, host: Host) -> None:
        """Stop the runs on a lost host; their jobs go back to the queue."""
        self._prefetch.forget(host.name)
        for run in list(self._runs.values()):
            if run.host is host and run.task is not None:
                run.halt = Halt.HOST_LOST
                run.task.cancel()

    async def halt(self, job: Job) -> None:
        """Stop a cancelled job on its host; its task then ends by itself."""
        run = self._runs.get(job.id)
        if run is None or job.prompt_id is None:
            return  # not staged yet: `_on_staged` stops it before it is sent
        if run.host.up:
            try:
                await run.host.client.cancel(job.prompt_id)
                return
            except ComfyError as exc:
                log.warning("could not cancel job %s on %s: %s", job.id, run.host.name, exc)
        if run.task is not None:
            run.halt = Halt.CANCELLED
            run.task.cancel()

    def _free_host(self, run: Run) -> None:
        """The GPU is done with `run`: its host may start the next job during the download."""
        if run.job_id in run.host.running:
            run.host.running.discard(run.job_id)
            self._wake.set()

    def _release(self, run: Run) -> None:
        if self._runs.pop(run.job_id, None) is None:
            return
        run.host.running.discard(run.job_id)
        self._by_user[run.user] -= 1
        if self._by_user[run.user] <= 0:
            del self._by_user[run.user]
        self._wake.set()

    async def _whole(self, run: Run) -> Job | None:
        """The job of a run that began as a queued record, read whole and marked running;
        None (the run released) when it does not start after all."""
        try:
            job = await self._ledger.full(run.job_id)
        except asyncio.CancelledError:
            self._release(run)
            if run.halt is None:
                raise  # the engine is stopping: the row stays queued
            self._ledger.back(run.job_id)  # its host went down before it began
            return None
        except Exception:
            # Not put back (it would be tried again at once): the next start takes it up.
            log.exception("job %s could not be read to start; it stays queued", run.job_id)
            self._release(run)
            held = self._ledger.get(run.job_id)
            if held is not None:
                self._ledger.retire(held)
            return None
        if job is None or job.status is not JobStatus.QUEUED:
            self._release(run)  # cancelled meanwhile
            return None
        _begin(job, run.host)
        run.job = job
        return job

    async def _run(self, run: Run) -> None:
        job = run.job if run.job is not None else await self._whole(run)
        if job is None:
            return
        host = run.host
        # This task's own context: every line logged while the job runs names it.
        JOB_CONTEXT.set({"job": job.id, "user": job.user, "host": host.name})
        try:
            if not run.reattach:  # stored with its prompt id (`_on_staged`): one write
                self._ledger.emit(job, JobStarted(host.name, *position(job)))
            collected = await self._execute(run)
        except asyncio.CancelledError:
            self._release(run)
            if run.halt is None:
                raise  # the engine is stopping: the row stays as it is
            if run.halt is Halt.HOST_LOST and job.status is JobStatus.RUNNING:
                await self._ledger.requeue(job, f"host {host.name} went down")
            return
        except Exception as exc:
            self._release(run)
            if isinstance(exc, LostLeadership):
                raise  # the leader takes the job up; this process steps down
            if job.status is JobStatus.RUNNING:
                await self._after_error(job, host, exc)
            return
        self._release(run)
        if job.status is JobStatus.RUNNING:
            if job.clips or plan_chain(job.request) is not None:
                await self._chains.clip_made(job, host, collected)
            else:
                await self._delivery.finish(job, host, collected)

    async def _execute(self, run: Run) -> RunResult:
        """Run the job through the run path; a committed prompt id is re-attached to."""
        job, host = run.job, run.host
        assert job is not None
        hooks = Hooks(
            on_staged=lambda submission: self._on_staged(job, submission),
            on_submitted=lambda submission: self._on_submitted(job, host, submission),
            on_event=lambda event: self._on_comfy_event(job, event),
            on_generated=lambda: self._free_host(run),
        )
        object_info = await host.schema.get(host.client)
        prepared, dest, prefix = next_run(job)
        collected = await run_job(
            prepared,
            host.client,
            HostSetup.of(host.config, self._config, object_info),
            dest,
            prefix=prefix,
            prompt_id=job.prompt_id,
            hooks=hooks,
            uploaded_ahead=await uploaded(run.uploads),
            fetch_window=self._config.comfy.fetch_retry_seconds,
        )
        if prepared.request.clip is not None:  # a long video's clip: the next continues it
            await fetch_latent(host.client, collected.prompt_id, prepared_latent(job))
        return collected

    async def _on_staged(self, job: Job, submission: Submission) -> None:
        """Commit the run and the prompt's id and workflow before the host gets them (exactly
        once). Until then the stored job is queued: a restart queues it again."""
        job.prompt_id, job.workflow = submission.prompt_id, submission.workflow
        await self._store.update(job, *STARTED, "prompt_id", "workflow")
        if job.status is JobStatus.CANCELLED:
            raise Halted(job.id)

    async def _on_submitted(self, job: Job, host: Host, submission: Submission) -> None:
        if submission.prompt_id != job.prompt_id:  # a host that picks its own ids
            job.prompt_id = submission.prompt_id
            await self._store.update(job, "prompt_id")
        if job.status is JobStatus.CANCELLED:
            # Cancelled while the host was taking it: `halt` may have looked too early.
            with contextlib.suppress(ComfyError):
                await host.client.cancel(submission.prompt_id)

    async def _on_comfy_event(self, job: Job, event: ComfyEvent) -> None:
        if isinstance(event, Preview):
            self._ledger.emit(job, JobPreview(event.image, event.mime))  # never stored
            return
        if not isinstance(event, Progress) or event.max <= 0:
            return
        percent = round(100.0 * min(event.value, event.max) / event.max, 1)
        job.progress, job.progress_step, job.progress_steps = percent, event.value, event.max
        progress = JobProgress(percent, event.value, event.max, event.node, *position(job))
        if self._ledger.emit(job, progress):
            await self._store.update(job, "progress", "progress_step", "progress_steps")

    async def _after_error(self, job: Job, host: Host, exc: Exception) -> None:
        if isinstance(exc, HostUnavailable | AuthError):
            self._hosts.mark_down(host, str(exc))
        requeue, reason = verdict(exc, job, host.name)
        if requeue:
            await self._ledger.requeue(job, reason)
        else:
            await self._ledger.fail(job, reason)


def _begin(job: Job, host: Host) -> None:
    """What starting a run on `host` changes in the job (committed when it is staged)."""
    job.status, job.host = JobStatus.RUNNING, host.name
    if not job.clips:  # a long video started with its first clip
        job.started_at = time.time()
    job.attempts += 1
    job.progress, job.progress_step, job.progress_steps, job.error = 0.0, 0, 0, None


def prepared_latent(job: Job) -> Path:
    """Where the clip being made keeps the latent its prompt saves."""
    return clip_files(job.work_dir, len(job.clips))[1]


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
    if isinstance(exc, VideoNotFetched):
        # The GPU work is done; running it again would only make the same video. The row
        # keeps the prompt id and host, and `bot.fetch` logged where the output is.
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
