"""Queue positions and ETAs as users see them, and which position changes are worth telling.

Positions are the fair scheduler's order (`FairQueue.position`, O(users) per job). ETAs come
from `Estimator`: the work ahead spread over the up hosts, plus the job's own cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bot.engine.eta import Estimator, work
from bot.engine.events import JobAccepted, PositionChanged
from bot.engine.hosts import HostPool
from bot.engine.jobs import Job, JobStatus, JobView
from bot.engine.scheduler import FairQueue
from bot.engine.slim import Queued

# Worth a message: a place among the last few, or a move of at least 10 %.
ANNOUNCE_NEAR = 10
ANNOUNCE_STEP = 0.9


class Board:
    """What the queue looks like to users."""

    def __init__(
        self,
        queue: FairQueue,
        estimator: Estimator,
        hosts: HostPool,
        running: Callable[[], Iterable[Job]],
    ) -> None:
        self._queue = queue
        self._estimator = estimator
        self._hosts = hosts
        self._running = running
        self._announced: dict[str, int] = {}

    def accepted(self, job: Job) -> JobAccepted:
        position = self._queue.position(job.id) or 1
        self._announced[job.id] = position
        return JobAccepted(position, _round(self.eta(job, position)))

    def forget(self, job_id: str) -> None:
        self._announced.pop(job_id, None)

    def busy_seconds(self, now: float) -> float:
        """Estimated seconds of work left in the running jobs."""
        total = 0.0
        for job in self._running():
            cost = self._estimator.cost(job.mode, work(job.request), job.host)
            total += Estimator.remaining(cost, now - (job.started_at or now), job.progress)
        return total

    def eta(
        self, job: Job | Queued, position: int | None, now: float | None = None
    ) -> float | None:
        now = time.time() if now is None else now
        if isinstance(job, Queued):
            own = self._estimator.cost(job.mode, job.work)
        else:
            own = self._estimator.cost(job.mode, work(job.request), job.host)
        if job.status is JobStatus.RUNNING and isinstance(job, Job):
            return Estimator.remaining(own, now - (job.started_at or now), job.progress)
        if job.status is not JobStatus.QUEUED or position is None:
            return None
        queue = self._queue
        mean = queue.total_cost / len(queue) if len(queue) else own
        return Estimator.queued(position, mean, own, self.busy_seconds(now), self._hosts.capacity())

    def view(self, job: Job | Queued) -> JobView:
        position = self._queue.position(job.id) if job.status is JobStatus.QUEUED else None
        eta = _round(self.eta(job, position))
        if isinstance(job, Queued):
            return JobView(job.id, job.mode, job.status, position, 0.0, 0, 0, eta, None, job.prompt)
        return JobView(
            id=job.id,
            mode=job.mode,
            status=job.status,
            position=position,
            progress=job.progress,
            step=job.progress_step,
            steps=job.progress_steps,
            eta_seconds=eta,
            host=job.host,
            prompt=job.request.prompt,
        )

    def changes(self) -> list[tuple[str, PositionChanged]]:
        """(job id, event) for every queued job whose place moved up enough to tell."""
        queue = self._queue
        if not len(queue):
            return []
        now = time.time()
        mean = queue.total_cost / len(queue)
        busy, capacity = self.busy_seconds(now), self._hosts.capacity()
        out: list[tuple[str, PositionChanged]] = []
        for position, entry in enumerate(queue.fair_order(), start=1):
            last = self._announced.get(entry.job_id)
            if last is not None and position >= last:
                continue
            if last is not None and position > ANNOUNCE_NEAR and position > last * ANNOUNCE_STEP:
                continue
            eta = Estimator.queued(position, mean, entry.cost, busy, capacity)
            out.append((entry.job_id, PositionChanged(position, round(eta, 1))))
        return out

    def announced(self, job_id: str, position: int) -> None:
        self._announced[job_id] = position


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
