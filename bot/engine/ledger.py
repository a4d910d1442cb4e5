"""The active jobs: the in-memory index of them, and the state changes every path shares.

Whatever moves a job (admission, a run, a delivery, a cancel, a restart) goes through here to
track or retire it, to tell its front end, to put it back in the queue or to fail it. Every
state change is committed to the store before anything acts on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from bot.chain import plan_chain
from bot.config import Queue
from bot.engine.eta import Estimator, work
from bot.engine.events import JobEvent, JobFailed, Notifier
from bot.engine.hosts import MODE_FEATURES
from bot.engine.jobs import Job, JobStatus
from bot.engine.ports import FrontEnd
from bot.engine.positions import Board
from bot.engine.scheduler import Entry, FairQueue
from bot.engine.store import JobStore
from bot.request import Mode
from workflows.hardware import fast_needs_720p

log = logging.getLogger(__name__)


class Observer(Protocol):
    def on_event(self, job: Job, event: JobEvent) -> None: ...
    def on_refused(self, error: Exception) -> None: ...
    def on_delivery_failed(self, job: Job) -> None: ...


class Ledger:
    """The jobs that are queued, running or being delivered."""

    def __init__(
        self,
        *,
        store: JobStore,
        queue: FairQueue,
        board: Board,
        notifier: Notifier,
        estimator: Estimator,
        frontends: dict[str, FrontEnd],
        wake: asyncio.Event,
        limits: Queue,
    ) -> None:
        self._store = store
        self._queue = queue
        self._board = board
        self._notifier = notifier
        self._estimator = estimator
        self._frontends = frontends
        self._wake = wake
        self._limits = limits
        self._jobs: dict[str, Job] = {}
        self._user_jobs: dict[str, dict[str, Job]] = {}
        # Who else hears of every event, refusal and failed delivery (metrics: `bot.ops`).
        self.observers: list[Observer] = []
        # Set while no job is active.
        self.idle = asyncio.Event()
        self.idle.set()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def __getitem__(self, job_id: str) -> Job:
        return self._jobs[job_id]

    def of_user(self, user: str) -> dict[str, Job]:
        """The user's active jobs by id (empty if none)."""
        return self._user_jobs.get(user, {})

    def track(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._user_jobs.setdefault(job.user, {})[job.id] = job
        self.idle.clear()

    def retire(self, job: Job) -> None:
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
            self.idle.set()

    # -- telling front ends -----------------------------------------------------------------

    def frontend(self, job: Job) -> FrontEnd | None:
        return self._frontends.get(job.platform)

    def emit(self, job: Job, event: JobEvent) -> bool:
        for observer in self.observers:
            try:
                observer.on_event(job, event)
            except Exception:
                log.exception("observer %r failed on %s", observer, type(event).__name__)
        frontend = self.frontend(job)
        return self._notifier.emit(job, event, None if frontend is None else frontend.on_event)

    def refused(self, error: Exception) -> None:
        """A request was refused (a cap, a quota, bad input): tell the observers."""
        for observer in self.observers:
            observer.on_refused(error)

    def delivery_failed(self, job: Job) -> None:
        for observer in self.observers:
            observer.on_delivery_failed(job)

    async def flush(self, job: Job) -> None:
        """Wait until the events already emitted for `job` are sent."""
        await self._notifier.flush(job.id)

    # -- shared state changes ---------------------------------------------------------------

    def push(self, job: Job) -> None:
        """Put a queued job in the fair queue (the caller wakes the dispatcher)."""
        self._queue.push(self.entry(job))

    def entry(self, job: Job) -> Entry:
        cost = self._estimator.cost(job.mode, work(job.request))
        needs = set()
        params = job.request.params
        if params.quality == "fast":
            needs.add("fast")
            if fast_needs_720p(params.width, params.height):
                needs.add("fast_720p")  # only hosts whose preset allows it
        if plan_chain(job.request) is not None:
            needs.add("svi")  # a clip of a long video: only hosts with the SVI LoRAs
        if job.mode is Mode.ANIMATE2:
            needs.add("animate2")  # only hosts with its model; on core nodes everywhere
        elif job.mode.value in MODE_FEATURES:
            needs.add(job.mode.value)  # a wrapper host, or a native one with the mode's files
        if "svi" in needs:
            needs.add("wrapper")  # what ComfyUI's own nodes do not make here
        return Entry(job.seq, job.id, job.user, job.mode, job.created_at, cost, frozenset(needs))

    async def requeue(self, job: Job, why: str) -> None:
        """Send a job back to the queue, or fail it once it has had `max_attempts` runs."""
        log.warning("job %s goes back to the queue: %s", job.id, why)
        if job.attempts >= self._limits.max_attempts:
            await self.fail(
                job,
                f"The GPU host failed while making this video ({job.attempts} "
                f"tries). Please try again later.",
            )
            return
        await self._back_to_queue(job)

    async def next_clip(self, job: Job) -> None:
        """A long video's clip is made (already in `job.clips`): the job goes back to the
        queue for its next clip, in the same write, with its tries counted afresh."""
        job.attempts = 0
        await self._back_to_queue(job, "clips", "gpu_seconds")

    async def _back_to_queue(self, job: Job, *also: str) -> None:
        job.status, job.host, job.prompt_id, job.workflow = JobStatus.QUEUED, None, None, {}
        job.progress, job.progress_step, job.progress_steps = 0.0, 0, 0
        await self._store.update(
            job,
            "status",
            "host",
            "prompt_id",
            "workflow",
            "attempts",
            "progress",
            "progress_step",
            "progress_steps",
            *also,
        )
        if job.status is JobStatus.QUEUED:  # unless cancelled meanwhile
            self.push(job)
            self._wake.set()

    async def fail(self, job: Job, reason: str) -> None:
        """Fail the job; `reason` is shown to the user as is."""
        job.status, job.error, job.finished_at = JobStatus.FAILED, reason, time.time()
        await self._store.update(job, "status", "error", "finished_at")
        self.emit(job, JobFailed(reason))
        self.retire(job)
