"""The engine's ports: what a chat front end must implement for the engine to drive it.

The engine calls these (`on_event`, `deliver`, `was_delivered`); `bot.app` starts and stops
`Adapter`s. They live beside the engine so that nothing in `bot/engine/` imports upward;
`bot.frontend` re-exports them for the adapters.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.engine.events import JobEvent
from bot.engine.jobs import Job, JobResult


@runtime_checkable
class FrontEnd(Protocol):
    """A chat platform as the engine sees it. One per `platform` name."""

    platform: str

    async def on_event(self, job: Job, event: JobEvent) -> None:
        """Show progress or a state change (best effort: exceptions are logged and dropped).

        `job.reply_target` is the opaque JSON the adapter gave to `Engine.submit`.
        """

    async def deliver(self, job: Job, result: JobResult) -> None:
        """Send the finished video and `await result.sent()` the moment the platform has it.
        Raise if it could not be sent: the engine retries a few times, then marks the job
        failed and sends `JobFailed` through `on_event`. Once `sent` was awaited, nothing is
        sent again, whatever follows (a failed card edit, a restart)."""

    async def was_delivered(self, job: Job) -> bool:
        """After a restart, for a job that was being delivered and not recorded as sent: True
        if the platform's own history shows it was (so it is not sent twice). The chat front
        ends cannot read theirs and answer False, the default."""
        return False


class Adapter(FrontEnd, Protocol):
    """A front end with a life of its own (a bot connection), started by `bot.app`.

    It may also have `connection_problem() -> str | None`: why its connection does not work
    now (None while it does), which `/readyz` reports (`bot.ops`).
    """

    async def start(self) -> None:
        """Connect and begin handling commands; return once running."""

    async def stop(self) -> None:
        """Disconnect; pending engine work is left for the next start."""
