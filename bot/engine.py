"""The job engine: a persistent, fair queue over many ComfyUI hosts that never loses a job.

Jobs are rows in the store; the engine keeps the active ones in memory and commits every
state change before acting on it. A single dispatcher task sleeps on an `asyncio.Event` and
is woken by whatever can let a job start (a submit, a finished job, a host coming up), so a
freed host gets its next job at once: there is no polling interval.

Life of a job: queued → running (submitted; prompt id committed at once) → delivering
(archived; the front end sends it) → done, or failed / cancelled. A host that drops out
sends its jobs back to the queue, up to `max_attempts` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot import worker
from bot.archive import Archive
from bot.config import Config
from bot.errors import LimitError, UserError
from bot.eta import Estimator
from bot.events import (
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
    Notifier,
)
from bot.frontend import FrontEnd
from bot.hosts import Host, HostPool
from bot.intake import accept_inputs, accept_request
from bot.jobs import (
    Job,
    JobResult,
    JobStatus,
    QueueStatus,
    new_job_id,
    user_key,
)
from bot.positions import Board
from bot.prepare import PreparedJob
from bot.recovery import plan_recovery
from bot.request import InputFiles, Mode
from bot.runner import Submission
from bot.scheduler import Entry, FairQueue, select
from bot.store import JobStore
from comfy.errors import (
    AuthError,
    ComfyError,
    HostUnavailable,
)
from comfy.events import ComfyEvent, Progress
from workflows.schema import bundled_object_info
from workflows.validate import choices

log = logging.getLogger(__name__)

DELIVERY_ATTEMPTS = 3
SEED_RANGE = 2**48


class Halt(StrEnum):
    """Why the engine cancelled a job's task."""

    HOST_LOST = "host lost"
    CANCELLED = "cancelled"


@dataclass(eq=False)
class Run:
    job: Job
    host: Host
    reattach: bool
    task: asyncio.Task[None] | None = None
    halt: Halt | None = None


class Engine:
    """Accepts jobs from front ends, runs them on the hosts, delivers the results."""

    def __init__(
        self, config: Config, store: JobStore, archive: Archive, hosts: HostPool | None = None
    ) -> None:
        self.config = config
        self._limits = config.queue
        self._store = store
        self._archive = archive
        self._hosts = hosts or HostPool(config)
        self._admins = frozenset(config.queue.admins)
        self._frontends: dict[str, FrontEnd] = {}
        self._jobs: dict[str, Job] = {}
        self._user_jobs: dict[str, dict[str, Job]] = {}
        self._queue = FairQueue()
        self._runs: dict[str, Run] = {}
        self._running_by_user: Counter[str] = Counter()
        self._reserved: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._estimator = Estimator(config.queue.default_seconds_per_frame)
        self._notifier = Notifier(config.queue.progress_interval)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._board = Board(
            self._queue, self._estimator, self._hosts, lambda: (r.job for r in self._runs.values())
        )
        self._announce_pending = False
        self._dispatcher: asyncio.Task[None] | None = None
        self._bundled_schedulers: list[str] | None = None
        # Seconds before the 2nd and 3rd delivery attempt are this times 1 and 2.
        self.delivery_backoff = 1.0

    @property
    def hosts(self) -> HostPool:
        return self._hosts

    # -- lifecycle --------------------------------------------------------------------------

    def register(self, frontend: FrontEnd) -> None:
        """Route jobs of `frontend.platform` to `frontend` (one per platform)."""
        if frontend.platform in self._frontends:
            raise ValueError(f"a front end for {frontend.platform!r} is already registered")
        self._frontends[frontend.platform] = frontend

    async def start(self) -> None:
        """Check the hosts, recover unfinished jobs, then start dispatching."""
        if self._dispatcher is not None:
            return
        self._estimator.load(await self._store.speeds())
        client_id = await self._store.client_id()
        await self._hosts.start(client_id, self._host_up, self._host_down)
        await self._recover()
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name="dispatcher")
        self._wake.set()

    async def stop(self) -> None:
        """Stop working; unfinished jobs stay in the store for the next start."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._hosts.close()
        await self._notifier.close()

    async def drain(self) -> None:
        """Return once nothing is queued, running or being delivered, and events are sent."""
        while True:
            await self._idle.wait()
            await self._notifier.idle()
            if self._idle.is_set():
                return

    # -- front-end API ----------------------------------------------------------------------

    async def submit(
        self,
        *,
        platform: str,
        user_id: str,
        chat_id: str,
        reply_target: dict[str, Any],
        mode: Mode,
        inputs: InputFiles,
        prompt: str,
        overrides: dict[str, Any],
    ) -> Job:
        """Accept a job: check caps, copy and prepare its files, store and queue it.

        Raises `LimitError` over a cap, `UserError` for unusable input or parameters.
        """
        schedulers = await self._schedulers()

        async def prepare(job_dir: Path) -> PreparedJob:
            return await accept_inputs(
                job_dir, mode, inputs, prompt, overrides, self.config, schedulers
            )

        return await self._admit(platform, user_id, chat_id, reply_target, prepare)

    async def reroll(self, job_id: str, *, platform: str, user_id: str) -> Job:
        """Queue `job_id` again with the same inputs and parameters and a new seed."""
        user = user_key(platform, user_id)
        old = await self.get(job_id)
        if old is None:
            raise UserError(f"There is no job {job_id}.")
        if old.user != user and user not in self._admins:
            raise UserError(f"Job {job_id} is someone else's; you can only re-roll your own.")
        params = old.request.params.model_copy(update={"seed": secrets.randbelow(SEED_RANGE)})
        request = old.request.model_copy(update={"params": params})

        async def prepare(job_dir: Path) -> PreparedJob:
            return await accept_request(job_dir, request, self.config)

        return await self._admit(platform, user_id, old.chat_id, old.reply_target, prepare)

    async def status(self, platform: str, user_id: str) -> QueueStatus:
        """The user's active jobs with positions and ETAs, and the queue's totals."""
        own = self._user_jobs.get(user_key(platform, user_id), {})
        views = [self._board.view(job) for job in sorted(own.values(), key=lambda j: j.seq)]
        return QueueStatus(views, queued=len(self._queue), running=len(self._runs))

    async def cancel(self, platform: str, user_id: str, job_id: str | None = None) -> Job:
        """Cancel a job: the user's latest active one when `job_id` is None.

        Admins may cancel anyone's job. A queued job is removed; a running one is interrupted
        on its host (or deleted from the host's queue if it has not started there).
        """
        user = user_key(platform, user_id)
        job = await self._cancellable(user, job_id)
        was = job.status
        job.status, job.finished_at = JobStatus.CANCELLED, time.time()
        job.error = f"cancelled by {user}"
        self._queue.remove(job.id)
        await self._store.update(job, "status", "finished_at", "error")
        if was is JobStatus.RUNNING:
            await self._halt_on_host(job)
        self._emit(job, JobCancelled())
        self._retire(job)
        return job

    async def get(self, job_id: str) -> Job | None:
        """The job, live if active, else as stored; None if unknown."""
        job = self._jobs.get(job_id)
        if job is not None:
            return job
        stored: Job | None = await self._store.get(job_id)
        return stored

    # -- admission --------------------------------------------------------------------------

    async def _admit(
        self,
        platform: str,
        user_id: str,
        chat_id: str,
        reply_target: dict[str, Any],
        prepare: Callable[[Path], Awaitable[PreparedJob]],
    ) -> Job:
        user = user_key(platform, user_id)
        self._check_caps(user)
        # Count the job against the caps while its files are prepared.
        self._reserved[user] += 1
        try:
            job_id = new_job_id()
            job_dir = self.config.storage.jobs / job_id
            prepared = await prepare(job_dir)
            job = Job(
                id=job_id,
                platform=platform,
                user_id=user_id,
                chat_id=chat_id,
                reply_target=reply_target,
                request=prepared.request,
                files=prepared.files,
                input_dir=job_dir,
                created_at=time.time(),
            )
            await self._store.add(job)
        finally:
            self._reserved[user] -= 1
        self._track(job)
        self._queue.push(self._entry(job))
        self._emit(job, self._board.accepted(job))
        self._wake.set()
        return job

    def _check_caps(self, user: str) -> None:
        if user in self._admins:
            return
        limits = self._limits
        mine = self._queue.queued_for(user) + self._reserved[user]
        if mine >= limits.max_queued_per_user:
            raise LimitError(
                f"You already have {mine} job(s) waiting, the most one person may queue "
                f"({limits.max_queued_per_user}). Wait for one to start, or cancel one."
            )
        total = len(self._queue) + sum(self._reserved.values())
        if total >= limits.max_total_queued:
            raise LimitError(
                f"The queue is full: {total} jobs are waiting (limit "
                f"{limits.max_total_queued}); you have {mine} of them. Try again later."
            )

    async def _schedulers(self) -> list[str]:
        host = self._hosts.any_up()
        if host is not None:
            with contextlib.suppress(ComfyError):
                found = choices(await host.schema.get(host.client), "WanVideoSampler", "scheduler")
                if found:
                    return found
        if self._bundled_schedulers is None:
            info = await asyncio.to_thread(bundled_object_info)
            self._bundled_schedulers = choices(info, "WanVideoSampler", "scheduler") or ["unipc"]
        return self._bundled_schedulers

    async def _cancellable(self, user: str, job_id: str | None) -> Job:
        if job_id is None:
            own = [
                j
                for j in self._user_jobs.get(user, {}).values()
                if j.status in (JobStatus.QUEUED, JobStatus.RUNNING)
            ]
            if not own:
                raise UserError("You have no job waiting or running.")
            return max(own, key=lambda j: j.seq)
        job = await self.get(job_id)
        if job is None:
            raise UserError(f"There is no job {job_id}.")
        if job.user != user and user not in self._admins:
            raise UserError(f"Job {job_id} is someone else's; you can only cancel your own jobs.")
        if job.status is JobStatus.DELIVERING:
            raise UserError(f"Job {job_id} is already finished; its video is on its way.")
        if not job.status.active:
            raise UserError(f"Job {job_id} is already {job.status.value}.")
        return job

    # -- dispatch ---------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self._dispatch()
            except Exception:
                log.exception("dispatch failed")

    def _dispatch(self) -> None:
        started = False
        now = time.time()
        while len(self._queue):
            choice = select(
                self._queue,
                self._hosts.slots(),
                now=now,
                affinity_max_wait=self._limits.affinity_max_wait,
                eligible=self._eligible,
            )
            if choice is None:
                break
            entry, slot = choice
            self._queue.take(entry.job_id)
            self._start_run(self._jobs[entry.job_id], self._hosts[slot.host], reattach=False)
            started = True
        if started:
            self._schedule_announce()

    def _eligible(self, user: str) -> bool:
        return (
            user in self._admins or self._running_by_user[user] < self._limits.max_running_per_user
        )

    def _start_run(self, job: Job, host: Host, *, reattach: bool) -> None:
        if not reattach:
            job.status, job.host, job.started_at = JobStatus.RUNNING, host.name, time.time()
            job.attempts += 1
            job.progress, job.step, job.steps, job.error = 0.0, 0, 0, None
        host.running.add(job.id)
        host.last_mode = job.mode
        self._running_by_user[job.user] += 1
        run = Run(job, host, reattach)
        self._runs[job.id] = run
        run.task = self._spawn(self._run(run), f"job-{job.id}")

    def _release(self, run: Run) -> None:
        if self._runs.pop(run.job.id, None) is None:
            return
        run.host.running.discard(run.job.id)
        self._running_by_user[run.job.user] -= 1
        if self._running_by_user[run.job.user] <= 0:
            del self._running_by_user[run.job.user]
        self._wake.set()

    def _host_up(self, host: Host) -> None:
        self._wake.set()

    def _host_down(self, host: Host) -> None:
        for run in list(self._runs.values()):
            if run.host is host and run.task is not None:
                run.halt = Halt.HOST_LOST
                run.task.cancel()

    # -- one job ----------------------------------------------------------------------------

    async def _run(self, run: Run) -> None:
        job, host = run.job, run.host
        try:
            if not run.reattach:
                await self._store.update(
                    job, "status", "host", "started_at", "attempts", "progress", "step", "steps"
                )
                self._emit(job, JobStarted(host.name))
            collected = await worker.execute(
                job,
                host,
                self.config,
                lambda event: self._on_comfy_event(job, event),
                lambda submission: self._on_submitted(job, host, submission),
            )
        except asyncio.CancelledError:
            self._release(run)
            if run.halt is None:
                raise  # the engine is stopping: the row stays as it is
            if run.halt is Halt.HOST_LOST and job.status is JobStatus.RUNNING:
                await self._requeue(job, f"host {host.name} went down")
            return
        except Exception as exc:
            self._release(run)
            if job.status is JobStatus.RUNNING:
                await self._after_error(job, host, exc)
            return
        self._release(run)
        if job.status is JobStatus.RUNNING:
            await self._finish(job, host, collected)

    async def _on_submitted(self, job: Job, host: Host, submission: Submission) -> None:
        job.prompt_id, job.workflow = submission.prompt_id, submission.workflow
        await self._store.update(job, "prompt_id", "workflow")
        if job.status is JobStatus.CANCELLED:
            with contextlib.suppress(ComfyError):
                await host.client.cancel(submission.prompt_id)

    async def _on_comfy_event(self, job: Job, event: ComfyEvent) -> None:
        if not isinstance(event, Progress) or event.max <= 0:
            return
        percent = round(100.0 * min(event.value, event.max) / event.max, 1)
        job.progress, job.step, job.steps = percent, event.value, event.max
        if self._emit(job, JobProgress(percent, event.value, event.max, event.node)):
            await self._store.update(job, "progress", "step", "steps")

    async def _halt_on_host(self, job: Job) -> None:
        """Stop a cancelled job on its host; its task then ends by itself."""
        run = self._runs.get(job.id)
        if run is None or job.prompt_id is None:
            return  # not submitted yet: `_on_submitted` cancels it right after
        if run.host.up:
            try:
                await run.host.client.cancel(job.prompt_id)
                return
            except ComfyError as exc:
                log.warning("could not cancel job %s on %s: %s", job.id, run.host.name, exc)
        if run.task is not None:
            run.halt = Halt.CANCELLED
            run.task.cancel()

    async def _after_error(self, job: Job, host: Host, exc: Exception) -> None:
        if isinstance(exc, HostUnavailable | AuthError):
            self._hosts.mark_down(host, str(exc))
        requeue, reason = worker.verdict(exc, job, host.name)
        if requeue:
            await self._requeue(job, reason)
        else:
            await self._fail(job, reason)

    async def _finish(self, job: Job, host: Host, collected: worker.Collected) -> None:
        try:
            video = await worker.archive_result(job, host, self.config, self._archive, collected)
        except Exception as exc:
            log.error("could not archive job %s", job.id, exc_info=exc)
            await self._fail(job, f"Something went wrong with job {job.id}; it has been logged.")
            return
        job.output, job.gpu_seconds = video, round(collected.gpu_seconds, 3)
        job.status, job.progress = JobStatus.DELIVERING, 100.0
        await self._store.update(job, "output", "gpu_seconds", "status", "progress")
        spf = collected.gpu_seconds / max(1, job.frames)
        self._estimator.update(
            host.name, job.mode, await self._store.record_speed(host.name, job.mode, spf)
        )
        await self._deliver(job)

    async def _deliver(self, job: Job) -> None:
        """Hand the result to the front end; `delivered` is committed right after it worked."""
        assert job.output is not None
        result = JobResult(
            video=job.output,
            json=job.output.with_suffix(".json"),
            gpu_seconds=job.gpu_seconds or 0.0,
            host=job.host or "",
            request=job.request,
        )
        frontend = self._frontends.get(job.platform)
        for attempt in range(DELIVERY_ATTEMPTS if frontend is not None else 0):
            if attempt:
                await asyncio.sleep(self.delivery_backoff * attempt)
            await self._notifier.flush(job.id)
            try:
                await frontend.deliver(job, result)  # type: ignore[union-attr]
            except Exception as exc:
                log.warning("delivery %d of job %s failed: %s", attempt + 1, job.id, exc)
                continue
            job.delivered, job.status, job.finished_at = True, JobStatus.DONE, time.time()
            await self._store.update(job, "delivered", "status", "finished_at")
            self._emit(job, JobFinished(result))
            self._retire(job)
            return
        if frontend is None:
            log.error("job %s: no front end registered for %r", job.id, job.platform)
        await self._fail(
            job,
            f"Job {job.id} was made but could not be sent; it is kept as {job.output.name}. "
            f"An operator can send it to you.",
        )

    async def _requeue(self, job: Job, why: str) -> None:
        log.warning("job %s goes back to the queue: %s", job.id, why)
        if job.attempts >= self._limits.max_attempts:
            await self._fail(
                job,
                f"The GPU host stopped responding while making this video ({job.attempts} "
                f"tries). Please try again later.",
            )
            return
        job.status, job.host, job.prompt_id, job.workflow = JobStatus.QUEUED, None, None, {}
        job.progress, job.step, job.steps = 0.0, 0, 0
        await self._store.update(
            job, "status", "host", "prompt_id", "workflow", "progress", "step", "steps"
        )
        if job.status is JobStatus.QUEUED:  # unless cancelled meanwhile
            self._queue.push(self._entry(job))
            self._wake.set()

    async def _fail(self, job: Job, reason: str) -> None:
        job.status, job.error, job.finished_at = JobStatus.FAILED, reason, time.time()
        await self._store.update(job, "status", "error", "finished_at")
        self._emit(job, JobFailed(reason))
        self._retire(job)

    # -- recovery ---------------------------------------------------------------------------

    async def _recover(self) -> None:
        plan = plan_recovery(await self._store.active(), self._hosts)
        for job in plan.queue + plan.requeue + plan.reattach + plan.deliver:
            self._track(job)
        for job in plan.queue:
            self._queue.push(self._entry(job))
        for job in plan.requeue:
            # The run was cut short by the restart, not by its host: it does not count.
            job.attempts = max(0, job.attempts - 1)
            await self._store.update(job, "attempts")
            await self._requeue(job, "it had not been submitted when the bot stopped")
        for job in plan.reattach:
            assert job.host is not None
            self._start_run(job, self._hosts[job.host], reattach=True)
        for job in plan.deliver:
            self._spawn(self._redeliver(job), f"redeliver-{job.id}")
        if plan.queue or plan.requeue or plan.reattach or plan.deliver:
            log.warning(
                "recovered %d queued, %d requeued, %d re-attached, %d to deliver",
                len(plan.queue),
                len(plan.requeue),
                len(plan.reattach),
                len(plan.deliver),
            )

    async def _redeliver(self, job: Job) -> None:
        frontend = self._frontends.get(job.platform)
        try:
            sent = frontend is not None and await frontend.was_delivered(job)
        except Exception:
            log.exception("was_delivered failed for job %s", job.id)
            sent = False
        if sent:
            job.delivered, job.status, job.finished_at = True, JobStatus.DONE, time.time()
            await self._store.update(job, "delivered", "status", "finished_at")
            self._retire(job)
        elif job.output is None or not job.output.exists():
            await self._fail(job, f"The video of job {job.id} was lost; please run it again.")
        else:
            await self._deliver(job)

    # -- bookkeeping ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _track(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._user_jobs.setdefault(job.user, {})[job.id] = job
        self._idle.clear()

    def _retire(self, job: Job) -> None:
        self._jobs.pop(job.id, None)
        own = self._user_jobs.get(job.user)
        if own is not None:
            own.pop(job.id, None)
            if not own:
                del self._user_jobs[job.user]
        self._queue.remove(job.id)
        self._board.forget(job.id)
        self._notifier.forget(job.id)
        if not self._jobs:
            self._idle.set()

    def _emit(self, job: Job, event: JobEvent) -> bool:
        frontend = self._frontends.get(job.platform)
        return self._notifier.emit(job, event, None if frontend is None else frontend.on_event)

    def _entry(self, job: Job) -> Entry:
        cost = self._estimator.cost(job.mode, job.frames)
        return Entry(job.seq, job.id, job.user, job.mode, job.created_at, cost)

    # -- positions ------------------------------------------------------------------------

    def _schedule_announce(self) -> None:
        if not self._announce_pending:
            self._announce_pending = True
            asyncio.get_running_loop().call_soon(self._announce_positions)

    def _announce_positions(self) -> None:
        """Tell queued users their new place when it moved enough to be worth a message."""
        self._announce_pending = False
        for job_id, event in self._board.changes():
            if self._emit(self._jobs[job_id], event):
                self._board.announced(job_id, event.position)
