"""The active jobs: the in-memory index of them, and the state changes every path shares.

A queued job is held as its `Queued` record until something needs it whole (`full`): it
starts, it is cancelled, someone reads it. Running and delivering jobs are held whole.

Whatever moves a job (admission, a run, a delivery, a cancel, a restart) goes through here to
track or retire it, to tell its front end, to put it back in the queue or to fail it. Every
state change is committed to the store before anything acts on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Protocol

from bot.config import Queue
from bot.engine.eta import Estimator
from bot.engine.events import JobEvent, JobFailed, Notifier, Send
from bot.engine.jobs import Job, JobStatus
from bot.engine.ports import FrontEnd
from bot.engine.positions import Board
from bot.engine.scheduler import Entry, FairQueue
from bot.engine.slim import Queued
from bot.engine.store import JobStore

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
        self._jobs: dict[str, Job | Queued] = {}
        self._user_jobs: dict[str, dict[str, Job | Queued]] = {}
        self._loading: dict[str, asyncio.Future[Job | None]] = {}
        # New queued jobs whole, for as long as someone else holds them (the caller of
        # `submit`, a notification being sent): `full` gives that same object, unread.
        self._alive: weakref.WeakValueDictionary[str, Job] = weakref.WeakValueDictionary()
        # Who else hears of every event, refusal and failed delivery (metrics: `bot.ops`).
        self.observers: list[Observer] = []
        # Set while no job is active.
        self.idle = asyncio.Event()
        self.idle.set()

    def get(self, job_id: str) -> Job | Queued | None:
        return self._jobs.get(job_id)

    def __getitem__(self, job_id: str) -> Job | Queued:
        return self._jobs[job_id]

    def of_user(self, user: str) -> dict[str, Job | Queued]:
        """The user's active jobs by id (empty if none)."""
        return self._user_jobs.get(user, {})

    def track(self, job: Job | Queued) -> None:
        self._jobs[job.id] = job
        self._user_jobs.setdefault(job.user, {})[job.id] = job
        self.idle.clear()

    def track_queued(self, job: Job) -> None:
        """Track a new queued job as its record and queue it (the caller wakes the
        dispatcher)."""
        record = Queued.of(job)
        self._alive[job.id] = job
        self.track(record)
        self.push(record)

    def retire(self, job: Job | Queued) -> None:
        self._jobs.pop(job.id, None)
        self._alive.pop(job.id, None)
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

    async def full(self, job_id: str) -> Job | None:
        """The active job `job_id` whole, None if it is not active. A queued one held as its
        record is read from the store and held whole from then on: everyone who asks gets
        the same live `Job` (one read, however many ask at once)."""
        held = self._jobs.get(job_id)
        if held is None or isinstance(held, Job):
            return held
        alive = self._alive.pop(job_id, None)
        if alive is not None:
            self._hold(alive)
            return alive
        loading = self._loading.get(job_id)
        if loading is None:
            loading = self._loading[job_id] = asyncio.ensure_future(self._load(held))
            loading.add_done_callback(_retrieved)
        return await asyncio.shield(loading)

    async def _load(self, record: Queued) -> Job | None:
        try:
            job = await self._store.get(record.id)
        finally:
            del self._loading[record.id]
        if job is None or self._jobs.get(record.id) is not record:
            # Gone meanwhile (retired): nothing live to replace, the stored row is all there is.
            return job
        self._hold(job)
        return job

    def _hold(self, job: Job) -> None:
        """Hold `job` whole in place of its record."""
        self._jobs[job.id] = job
        self._user_jobs[job.user][job.id] = job

    async def whole(self, job_id: str) -> Job | None:
        """The job whole to read (not to change): the live one if there is one, else as
        stored, without holding it (a front end's notification of a queued job)."""
        held = self._jobs.get(job_id)
        if isinstance(held, Job):
            return held
        return self._alive.get(job_id) or await self._store.get(job_id)

    # -- telling front ends -----------------------------------------------------------------

    def frontend(self, job: Job | Queued) -> FrontEnd | None:
        return self._frontends.get(job.platform)

    def emit(self, job: Job | Queued, event: JobEvent) -> bool:
        """Queue `event` for the job's front end (and tell the observers, of a whole job)."""
        if isinstance(job, Job):
            for observer in self.observers:
                try:
                    observer.on_event(job, event)
                except Exception:
                    log.exception("observer %r failed on %s", observer, type(event).__name__)
        frontend = self.frontend(job)
        send = None if frontend is None else self._sender(job, frontend)
        return self._notifier.emit(job.id, event, send)

    def _sender(self, job: Job | Queued, frontend: FrontEnd) -> Send:
        """How an event reaches the front end: with the job whole, read when it is sent
        for a job held as its record."""
        if isinstance(job, Job):
            whole = job

            async def send(event: JobEvent) -> None:
                await frontend.on_event(whole, event)

            return send
        job_id = job.id

        async def send_queued(event: JobEvent) -> None:
            read = await self.whole(job_id)
            if read is not None:
                await frontend.on_event(read, event)

        return send_queued

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

    def push(self, job: Job | Queued) -> None:
        """Put a queued job in the fair queue (the caller wakes the dispatcher)."""
        self._queue.push(self.entry(job))

    def entry(self, job: Job | Queued) -> Entry:
        slim = job if isinstance(job, Queued) else Queued.of(job)
        cost = self._estimator.cost(slim.mode, slim.work)
        return Entry(slim.seq, slim.id, slim.user, slim.mode, slim.created_at, cost, slim.needs)

    def back(self, job_id: str) -> None:
        """A job taken from the queue to start, that did not: back in its place, if it is
        still queued."""
        held = self._jobs.get(job_id)
        if held is not None and held.status is JobStatus.QUEUED:
            self.push(held)
            self._wake.set()

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


def _retrieved(future: asyncio.Future[Job | None]) -> None:
    """A read nobody waits for any more must not log 'exception never retrieved'."""
    if not future.cancelled():
        future.exception()
