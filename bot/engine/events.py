"""What the engine tells front ends about a job, throttled, in order, never fatal.

State changes (accepted, started, finished, failed, cancelled) are always sent. Progress and
queue-position updates are throttled per job: at most one per `interval` seconds, and never
the same update twice in a row. Previews (`JobPreview`, kept in memory only) have a pump and
an interval of their own, so a slow preview edit never holds up the status or the delivery;
while one waits to be sent, a newer one takes its place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.engine.jobs import JobResult

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
    clip: int = 1  # a long video: which of its `clips` clips started (1 first)
    clips: int = 1


@dataclass(frozen=True)
class JobProgress:
    percent: float
    step: int
    steps: int
    node: str | None = None
    clip: int = 1  # a long video: the progress is its `clip`-th clip's, of `clips`
    clips: int = 1


@dataclass(frozen=True)
class JobPreview:
    """What the sampler is making now: an image (JPEG or PNG bytes) for the job's card."""

    image: bytes = field(repr=False)
    mime: str


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
    | JobPreview
    | JobFinished
    | JobFailed
    | JobCancelled
)
THROTTLED = (JobProgress, PositionChanged)
NEVER = float("-inf")  # one object for every throttle that has not sent yet


class Throttle:
    """Decides which throttled updates of one job are worth sending (one per queued job: its
    attributes in slots, not a dict)."""

    __slots__ = ("_clock", "_last", "_preview_at", "_sent_at", "interval", "preview_interval")

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        preview_interval: float = 0.0,
    ) -> None:
        self.interval = interval
        self.preview_interval = preview_interval
        self._clock = clock
        self._last: JobEvent | None = None
        self._sent_at = NEVER
        self._preview_at = NEVER

    def allow(self, event: JobEvent) -> bool:
        if isinstance(event, JobPreview):
            now = self._clock()
            if now - self._preview_at < self.preview_interval:
                return False
            self._preview_at = now
            return True
        if not isinstance(event, THROTTLED):
            # What follows is new whatever it is (a throttled event never equals this one).
            self._last = None
            return True
        if event == self._last:
            return False
        now = self._clock()
        if now - self._sent_at < self.interval:
            return False
        self._last, self._sent_at = event, now
        return True


# Sends one event of one job to its front end.
Send = Callable[["JobEvent"], Awaitable[None]]
PREVIEWS = "#previews"  # the key suffix of a job's preview pump


class Notifier:
    """Sends each job's events to its front end in order, one job's slowness not blocking others.

    A front end's exception is logged and dropped: notifications are best effort.
    """

    def __init__(self, interval: float, preview_interval: float = 0.0) -> None:
        self.interval = interval
        self.preview_interval = preview_interval
        self._throttles: dict[str, Throttle] = {}
        self._pending: dict[str, deque[tuple[JobEvent, Send]]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()

    def emit(self, job_id: str, event: JobEvent, send: Send | None) -> bool:
        """Queue `event` of job `job_id` unless throttled; returns whether it will be sent."""
        throttle = self._throttles.get(job_id)
        # State changes always pass: a job gets a throttle (a queued one may never) with
        # its first event that a throttle may hold back.
        if throttle is None and isinstance(event, (*THROTTLED, JobPreview)):
            throttle = Throttle(self.interval, preview_interval=self.preview_interval)
            self._throttles[job_id] = throttle
        if (throttle is not None and not throttle.allow(event)) or send is None:
            return False
        # Previews go through a pump of their own: a slow one never holds up the status.
        key = f"{job_id}{PREVIEWS}" if isinstance(event, JobPreview) else job_id
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = deque()
            self._idle.clear()
            self._pumps[key] = asyncio.create_task(
                self._pump(key, job_id, pending), name=f"notify-{key}"
            )
        if isinstance(event, JobPreview) and pending:
            pending.clear()  # the newest wins
        pending.append((event, send))
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

    async def _pump(self, key: str, job_id: str, pending: deque[tuple[JobEvent, Send]]) -> None:
        try:
            while pending:
                event, send = pending.popleft()
                try:
                    await send(event)
                except Exception:
                    log.exception("front end failed to handle %s for job %s", event, job_id)
        finally:
            del self._pending[key]
            del self._pumps[key]
            if not self._pumps:
                self._idle.set()
