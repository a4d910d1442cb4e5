"""A front end that records what the engine told it (errbot's test backend, for WanBot).

    front = RecordingFrontEnd()
    engine.register(front)
    ...
    await front.wait_for(job.id, JobStarted)

Deliveries can be made to fail a number of times (`fail_deliveries`), and `was_delivered`
answers from what was recorded, like a platform that can look at its own chat history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.engine.events import JobEvent, JobPreview
from bot.engine.jobs import Job, JobResult

E = TypeVar("E")


@dataclass(frozen=True)
class Delivery:
    job_id: str
    result: JobResult


class RecordingFrontEnd:
    def __init__(self, platform: str = "test", *, fail_deliveries: int = 0) -> None:
        self.platform = platform
        self.fail_deliveries = fail_deliveries
        self.events: list[tuple[str, JobEvent]] = []
        self.deliveries: list[Delivery] = []
        self.delivery_attempts = 0
        self.remember_deliveries = True
        # Fail this many deliveries after the video went out (a card edit that fails).
        self.fail_after_sending = 0
        # While set to an unset Event, showing a preview waits on it (a platform that makes
        # the bot wait, as after a 429).
        self.preview_gate: asyncio.Event | None = None
        self._tick = asyncio.Event()

    # -- FrontEnd ---------------------------------------------------------------------------

    async def on_event(self, job: Job, event: JobEvent) -> None:
        if isinstance(event, JobPreview) and self.preview_gate is not None:
            await self.preview_gate.wait()
        self.events.append((job.id, event))
        self._changed()

    async def deliver(self, job: Job, result: JobResult) -> None:
        self.delivery_attempts += 1
        if self.fail_deliveries > 0:
            self.fail_deliveries -= 1
            self._changed()
            raise ConnectionError("fake platform refused the upload")
        assert result.video.exists(), result.video
        self.deliveries.append(Delivery(job.id, result))
        await result.sent()
        self._changed()
        if self.fail_after_sending > 0:
            self.fail_after_sending -= 1
            raise ConnectionError("fake platform failed after the video was sent")

    async def was_delivered(self, job: Job) -> bool:
        return self.remember_deliveries and job.id in self.delivered_ids()

    # -- inspection -------------------------------------------------------------------------

    def delivered_ids(self) -> list[str]:
        return [d.job_id for d in self.deliveries]

    def events_of(self, job_id: str, kind: type[E] | None = None) -> list[E]:
        return [
            e  # type: ignore[misc]
            for jid, e in self.events
            if jid == job_id and (kind is None or isinstance(e, kind))
        ]

    def order_of(self, kind: type[object]) -> list[str]:
        """Job ids in the order they got their first event of `kind`."""
        seen: list[str] = []
        for job_id, event in self.events:
            if isinstance(event, kind) and job_id not in seen:
                seen.append(job_id)
        return seen

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            tick = self._tick
            await tick.wait()

    async def wait_for(self, job_id: str, kind: type[E]) -> E:
        await self.wait_until(lambda: bool(self.events_of(job_id, kind)))
        return self.events_of(job_id, kind)[0]

    def _changed(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()
