"""What the engine tells front ends about a job, throttled, in order, never fatal.

State changes (accepted, started, finished, failed, cancelled) are always sent. Progress and
queue-position updates are throttled per job: at most one per `interval` seconds, and never
the same update twice in a row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.engine.jobs import Job, JobResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobAccepted:
    position: int
    eta_seconds: float | None


@dataclass(frozen=True)
class PositionChanged:
    position: int
    eta_seconds: float | None


@dataclass(frozen=True)
class JobStarted:
    host: str


@dataclass(frozen=True)
class JobProgress:
    percent: float
    step: int
    steps: int
    node: str | None = None


@dataclass(frozen=True)
class JobFinished:
    result: JobResult


@dataclass(frozen=True)
class JobFailed:
    reason: str  # shown to the user as is


@dataclass(frozen=True)
class JobCancelled:
    by_admin: bool = False  # an admin cancelled someone else's job: its owner is told so


JobEvent = (
    JobAccepted
    | PositionChanged
    | JobStarted
    | JobProgress
    | JobFinished
    | JobFailed
    | JobCancelled
)
THROTTLED = (JobProgress, PositionChanged)


class Throttle:
    """Decides which throttled updates of one job are worth sending."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._clock = clock
        self._last: JobEvent | None = None
        self._sent_at = float("-inf")

    def allow(self, event: JobEvent) -> bool:
        if not isinstance(event, THROTTLED):
            self._last = event
            return True
        if event == self._last:
            return False
        now = self._clock()
        if now - self._sent_at < self.interval:
            return False
        self._last, self._sent_at = event, now
        return True


Handler = Callable[[Job, JobEvent], Awaitable[None]]


class Notifier:
    """Sends each job's events to its front end in order, one job's slowness not blocking others.

    A front end's exception is logged and dropped: notifications are best effort.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._throttles: dict[str, Throttle] = {}
        self._pending: dict[str, deque[JobEvent]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def emit(self, job: Job, event: JobEvent, handler: Handler | None) -> bool:
        """Queue `event` unless throttled; returns whether it will be sent."""
        throttle = self._throttles.get(job.id)
        if throttle is None:
            throttle = self._throttles[job.id] = Throttle(self.interval)
        if not throttle.allow(event) or handler is None:
            return False
        pending = self._pending.get(job.id)
        if pending is None:
            pending = self._pending[job.id] = deque()
            self._idle.clear()
            self._pumps[job.id] = asyncio.create_task(
                self._pump(job, pending, handler), name=f"notify-{job.id}"
            )
        pending.append(event)
        return True

    def forget(self, job_id: str) -> None:
        """Drop a finished job's throttle state (its pump ends by itself)."""
        self._throttles.pop(job_id, None)

    async def flush(self, job_id: str) -> None:
        """Wait until every event queued so far for `job_id` has been handled."""
        task = self._pumps.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def idle(self) -> None:
        await self._idle.wait()

    async def close(self) -> None:
        tasks = list(self._pumps.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _pump(self, job: Job, pending: deque[JobEvent], handler: Handler) -> None:
        try:
            while pending:
                event = pending.popleft()
                try:
                    await handler(job, event)
                except Exception:
                    log.exception("front end failed to handle %s for job %s", event, job.id)
        finally:
            del self._pending[job.id]
            del self._pumps[job.id]
            if not self._pumps:
                self._idle.set()
