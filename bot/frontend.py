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
  schema, whose scheduler list typed front ends offer), summaries and Details, byte sizes,
  fitting a video to an upload limit, fitting a reply to a message limit (`echo`, `fit`,
  `pieces`), and the errors (a `UserError`'s text is written for the user).

Nothing in `bot/` knows any platform: `bot.app` loads adapters by import path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bot.config import Config
from bot.config_errors import config_problems, validate_section
from bot.engine.admin import AdminError, Blocked, HostView, Refused, host_lines
from bot.engine.admission import Ticket
from bot.engine.events import (
    JobAccepted,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobPreview,
    JobProgress,
    JobStarted,
    PositionChanged,
)
from bot.engine.jobs import Job, JobResult, JobStatus, JobView, QueueStatus
from bot.engine.ports import Adapter, FrontEnd
from bot.engine.quotas import QuotaError, QuotaView, quota_text
from bot.errors import ConfigError, InputError, LimitError, ParameterError, UserError
from bot.flags import ParsedCommand, parse_command
from bot.groups import GroupCards
from bot.intake import DEFAULT_PROMPTS, prompt_or_default
from bot.media.details import details_text
from bot.media.summary import full_summary, mode_name, summarize
from bot.media.units import duration_text, size_text
from bot.media.video import DeliveryPlan, plan_delivery, probe, thumbnail
from bot.params import PARAMS, Param, find_param, mode_schedulers, scheduler_choices
from bot.replies import echo, fit, pieces
from bot.request import Ask, FileSet, InputFiles, Mode, Order, Sender, user_key
from bot.resolve import default_negative
from bot.user_defaults import describe as describe_user_defaults
from workflows.schema import bundled_object_info

__all__ = [
    "DEFAULT_PROMPTS",
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
    "JobPreview",
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
    "Ticket",
    "UserDefaultsAPI",
    "UserError",
    "bundled_object_info",
    "config_problems",
    "default_negative",
    "describe_user_defaults",
    "details_text",
    "duration_text",
    "echo",
    "find_param",
    "fit",
    "full_summary",
    "host_lines",
    "mode_name",
    "mode_schedulers",
    "parse_command",
    "pieces",
    "plan_delivery",
    "probe",
    "prompt_or_default",
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
    async def leader(self) -> str | None: ...


class UserDefaultsAPI(Protocol):
    """A user's own defaults (`bot.user_defaults.UserDefaults`), by "platform:user_id"."""

    async def get(self, user: str) -> dict[str, str]: ...

    async def change(self, user: str, text: str) -> dict[str, str]:
        """Set `name value` pairs (or `reset`); the new defaults, or a `UserError`."""
        ...


class QuotasAPI(Protocol):
    """Per-user quotas (`bot.engine.quotas.Quotas`)."""

    async def view(self, platform: str, user_id: str, *, exempt: bool = False) -> QuotaView:
        """`exempt`: the front end knows the user is an admin (no quotas apply)."""
        ...


class EngineAPI(Protocol):
    """What a front end may ask of the engine (`bot.engine.core.Engine`)."""

    @property
    def quotas(self) -> QuotasAPI:
        """What each user has used and has left (`/quota`)."""
        ...

    @property
    def user_defaults(self) -> UserDefaultsAPI:
        """Each user's own defaults (`/settings`)."""
        ...

    @property
    def admin(self) -> AdminAPI:
        """What admins may do; only for users the front end knows are admins."""
        ...

    def admission(
        self, sender: Sender, overrides: Sequence[Mapping[str, Any]] = ({},)
    ) -> AbstractAsyncContextManager[Ticket]:
        """Decide what needs no file first: enter it before downloading anything, with each
        request's typed flags (for `--batch`). Refuses with a `UserError` (blocked, draining,
        caps, quota); otherwise holds the jobs until `submit_all(orders, ticket)` in the block
        queues them (the hold ends with the block)."""
        ...

    async def submit(self, order: Order) -> Job:
        """Accept a job, or raise a `UserError` (`LimitError`, `InputError`, ...) saying why."""
        ...

    async def submit_all(self, orders: Sequence[Order], ticket: Ticket | None = None) -> list[Job]:
        """The jobs of one message (a `--batch N`, several photos), accepted whole or not at
        all; batches get `batch` in their reply targets (`GroupCards`). `ticket`: from
        `admission` (else they are admitted here)."""
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
        as_admin: bool = False,
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
        as_admin: bool = False,
    ) -> Job:
        """Continue an image-to-video clip from its last frame; delivered joined to it."""
        ...

    async def schedulers(self) -> list[str]:
        """The sampler's schedulers on a live host (the bundled schema's when none is up)."""
        ...

    async def refetch(self, job_id: str, by: str) -> Job:
        """Admins: fetch again the video of a job that was made but could not be fetched
        (`AdminError` for any other job); it is then delivered as usual."""
        ...

    async def get(self, job_id: str) -> Job | None:
        """Any job by id, live or stored; None if unknown."""
        ...
