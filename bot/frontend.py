"""The seam between the core and the chat platforms: all an adapter may use from `bot/`.

An adapter (Telegram, Discord, a test recorder) imports only this module (a layering test
keeps it so). It finds here:

- what to send the engine: an `Order` (an `Ask`: mode, prompt, typed overrides, input
  files as a `FileSet`; from a `Sender`, with the adapter's own `reply_target`), and the
  `EngineAPI` it sends it to (`submit`, `status`, `cancel`, `reroll`, `extend`,
  `get`, `schedulers`);
- what it must implement: `FrontEnd` (events and deliveries), `Adapter` (start and stop);
- what comes back: `Job`, `JobResult`, `JobView`, `QueueStatus`, the `JobEvent`s;
- the shared user texts and tools: the parameter table and flag syntax (and the bundled
  schema, whose scheduler list typed front ends offer), summaries, byte sizes, fitting a video
  to an upload limit, and the errors (a `UserError`'s text is written for the user).

Nothing in `bot/` knows any platform: `bot.app` loads adapters by import path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from bot.config import Config, config_problems, validate_section
from bot.engine.admin import AdminError, Blocked, HostView, Refused, host_lines
from bot.engine.events import (
    JobAccepted,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
    PositionChanged,
)
from bot.engine.jobs import Job, JobResult, JobStatus, JobView, QueueStatus
from bot.engine.quotas import QuotaError, QuotaView, quota_text
from bot.errors import ConfigError, InputError, LimitError, ParameterError, UserError
from bot.flags import ParsedCommand, parse_command
from bot.groups import GroupCards
from bot.media.summary import full_summary, summarize
from bot.media.units import duration_text, size_text
from bot.media.video import DeliveryPlan, plan_delivery, probe, thumbnail
from bot.params import PARAMS, Param, find_param, scheduler_choices
from bot.request import Ask, FileSet, InputFiles, Mode, Order, Sender, user_key
from bot.settings import describe as describe_settings
from workflows.schema import bundled_object_info

__all__ = [
    "PARAMS",
    "Adapter",
    "AdminAPI",
    "AdminError",
    "Ask",
    "Blocked",
    "Config",
    "ConfigError",
    "DeliveryPlan",
    "EngineAPI",
    "FileSet",
    "FrontEnd",
    "GroupCards",
    "HostView",
    "InputError",
    "InputFiles",
    "Job",
    "JobAccepted",
    "JobCancelled",
    "JobEvent",
    "JobFailed",
    "JobFinished",
    "JobProgress",
    "JobResult",
    "JobStarted",
    "JobStatus",
    "JobView",
    "LimitError",
    "Mode",
    "Order",
    "Param",
    "ParameterError",
    "ParsedCommand",
    "PositionChanged",
    "QueueStatus",
    "QuotaError",
    "QuotaView",
    "QuotasAPI",
    "Refused",
    "Sender",
    "SettingsAPI",
    "UserError",
    "bundled_object_info",
    "config_problems",
    "describe_settings",
    "duration_text",
    "find_param",
    "full_summary",
    "host_lines",
    "parse_command",
    "plan_delivery",
    "probe",
    "quota_text",
    "scheduler_choices",
    "size_text",
    "summarize",
    "thumbnail",
    "user_key",
    "validate_section",
]


class AdminAPI(Protocol):
    """The admin actions (`bot.engine.admin.Admin`). The front end checks that the user is an
    admin and passes who acted as `by` ("platform:user_id"); each action is logged with it."""

    draining: bool

    async def hosts(self) -> list[HostView]: ...
    async def pause(self, name: str, by: str) -> HostView: ...
    async def resume(self, name: str, by: str) -> HostView: ...
    def drain(self, by: str) -> None: ...
    def undrain(self, by: str) -> None: ...
    async def block(self, user: str, by: str) -> None: ...
    async def unblock(self, user: str, by: str) -> None: ...
    def blocked(self) -> list[Blocked]: ...


class SettingsAPI(Protocol):
    """A user's own defaults (`bot.settings.UserSettings`), by "platform:user_id"."""

    async def get(self, user: str) -> dict[str, str]: ...

    async def change(self, user: str, text: str) -> dict[str, str]:
        """Set `name value` pairs (or `reset`); the new defaults, or a `UserError`."""
        ...


class QuotasAPI(Protocol):
    """Per-user quotas (`bot.engine.quotas.Quotas`)."""

    async def view(self, platform: str, user_id: str) -> QuotaView: ...


class EngineAPI(Protocol):
    """What a front end may ask of the engine (`bot.engine.core.Engine`)."""

    @property
    def quotas(self) -> QuotasAPI:
        """What each user has used and has left (`/quota`)."""
        ...

    @property
    def settings(self) -> SettingsAPI:
        """Each user's own defaults (`/settings`)."""
        ...

    @property
    def admin(self) -> AdminAPI:
        """What admins may do; only for users the front end knows are admins."""
        ...

    async def submit(self, order: Order) -> Job:
        """Accept a job, or raise a `UserError` (`LimitError`, `InputError`, ...) saying why."""
        ...

    async def submit_all(self, orders: Sequence[Order]) -> list[Job]:
        """The jobs of one message (a `--batch N`, several photos), accepted whole or not at
        all; batches get `batch` in their reply targets (`GroupCards`)."""
        ...

    async def status(self, platform: str, user_id: str) -> QueueStatus:
        """The user's own active jobs with positions and ETAs, and the queue's totals."""
        ...

    async def cancel(
        self, platform: str, user_id: str, job_id: str | None = None, *, as_admin: bool = False
    ) -> Job:
        """Cancel the user's job (their latest active one when `job_id` is None); anyone's
        when the user is an admin (in the config, or `as_admin` as the front end knows)."""
        ...

    async def reroll(
        self,
        job_id: str,
        *,
        platform: str,
        user_id: str,
        reply_target: dict[str, Any] | None = None,
    ) -> Job:
        """The same job again with a new seed, checked against today's limits; it answers at
        `reply_target` (the old job's when None)."""
        ...

    async def extend(
        self,
        job_id: str,
        *,
        platform: str,
        user_id: str,
        prompt: str | None = None,
        reply_target: dict[str, Any] | None = None,
    ) -> Job:
        """Continue an image-to-video clip from its last frame; delivered joined to it."""
        ...

    async def schedulers(self) -> list[str]:
        """The sampler's schedulers on a live host (the bundled schema's when none is up)."""
        ...

    async def get(self, job_id: str) -> Job | None:
        """Any job by id, live or stored; None if unknown."""
        ...


@runtime_checkable
class FrontEnd(Protocol):
    """A chat platform as the engine sees it. One per `platform` name."""

    platform: str

    async def on_event(self, job: Job, event: JobEvent) -> None:
        """Show progress or a state change (best effort: exceptions are logged and dropped).

        `job.reply_target` is the opaque JSON the adapter gave to `Engine.submit`.
        """

    async def deliver(self, job: Job, result: JobResult) -> None:
        """Send the finished video. Raise if it could not be sent: the engine retries a few
        times, then marks the job failed and sends `JobFailed` through `on_event`."""

    async def was_delivered(self, job: Job) -> bool:
        """After a restart, for a job that was being delivered: True if the platform can tell
        it was already sent (so it is not sent twice). Return False when unknown."""
        return False


class Adapter(FrontEnd, Protocol):
    """A front end with a life of its own (a bot connection), started by `bot.app`."""

    async def start(self) -> None:
        """Connect and begin handling commands; return once running."""

    async def stop(self) -> None:
        """Disconnect; pending engine work is left for the next start."""
