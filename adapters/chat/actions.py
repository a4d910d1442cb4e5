"""What a user may do with jobs on any platform, and how a failure is answered.

`JobActions` holds the checks and answers both platforms share: own-job checks, Details, the
queue, cancel, reroll and extend, the user's own defaults and quota. `reply_for` is the error
policy: a `UserError`'s text is for the user and shown verbatim; anything else is logged with
its traceback and a short reference, and the user gets that reference, never the exception.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.chat import texts
from adapters.chat.markup import Markup
from bot.frontend import (
    Config,
    Job,
    QueueStatus,
    UserError,
    default_negative,
    describe_user_defaults,
    details_text,
    echo,
    pieces,
    quota_text,
    user_key,
)

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

log = logging.getLogger(__name__)


def incident_ref() -> str:
    """A short reference the user can quote and the operator can find in the log."""
    return secrets.token_hex(3)


def reply_for(exc: BaseException, what: str) -> str:
    """The error policy: what to tell the user about `exc`, raised while doing `what` (for the
    log line)."""
    if isinstance(exc, UserError):
        return str(exc)
    ref = incident_ref()
    log.error("%s failed (reference %s)", what, ref, exc_info=exc)
    return texts.INTERNAL.format(ref=ref)


def job_id_of(text: str | None) -> str | None:
    """The job id a user typed (the first word, with the code span's backticks a copy from
    Discord brings along); None for nothing."""
    words = (text or "").split()
    return words[0].strip("`") or None if words else None


@dataclass(frozen=True)
class User:
    """Who acts: their platform id and the front end's admin decision (ids, roles)."""

    platform: str
    user_id: str
    admin: bool = False

    @property
    def key(self) -> str:
        return user_key(self.platform, self.user_id)


class JobActions:
    """The job actions of one platform (`markup` renders the answers, `limit` is a message)."""

    def __init__(self, engine: EngineAPI, config: Config, markup: Markup, limit: int) -> None:
        self.engine = engine
        self.config = config
        self.markup = markup
        self.limit = limit

    async def own_job(self, user: User, job_id: str) -> Job:
        """The job, if `user` made it or is an admin; else a `UserError` and nothing done."""
        job = await self.engine.get(job_id) if job_id else None
        if job is None:
            raise UserError(texts.UNKNOWN_JOB.format(job=echo(job_id)))
        if job.user != user.key and not user.admin:
            raise UserError(texts.NOT_YOUR_JOB)
        return job

    def details(self, job: Job) -> list[str]:
        """Every parameter of `job` under its flag name, as messages that fit the platform."""
        text = details_text(
            job.id,
            job.request,
            host=job.host,
            gpu_seconds=job.gpu_seconds,
            default_negative=default_negative(self.config, job.mode),
            escape=self.markup.escape,
        )
        return pieces(text, self.limit)

    async def queue(self, user: User) -> tuple[str, QueueStatus]:
        """The user's jobs as `/queue` shows them, and the status (for Cancel buttons)."""
        status = await self.engine.status(user.platform, user.user_id)
        return texts.queue_text(status, self.markup), status

    async def cancel(self, user: User, job_id: str | None) -> str:
        """Cancel the user's job (the newest without an id; anyone's for an admin)."""
        job = await self.engine.cancel(user.platform, user.user_id, job_id, as_admin=user.admin)
        return texts.cancelled(job.id, self.markup)

    async def again(
        self,
        action: str,
        user: User,
        job_id: str,
        *,
        prompt: str | None = None,
        reply_target: dict[str, Any] | None = None,
    ) -> Job:
        """Reroll (`action` "reroll") or extend ("extend") `job_id` as a new job."""
        common: dict[str, Any] = {
            "platform": user.platform,
            "user_id": user.user_id,
            "reply_target": reply_target,
            "as_admin": user.admin,
        }
        if action == "extend":
            return await self.engine.extend(job_id, prompt=prompt or None, **common)
        return await self.engine.reroll(job_id, **common)

    def again_text(self, action: str, job: Job) -> str:
        return texts.again(action, job.id, self.markup)

    async def user_defaults(self, user: User, args: str, change: str, reset: str) -> str:
        """`/settings`: show the user's defaults, or change them with `args`; `change` and
        `reset` are the platform's example commands."""
        mine = self.engine.user_defaults
        args = args.strip()
        values = await (mine.change(user.key, args) if args else mine.get(user.key))
        return texts.settings_text(describe_user_defaults(values), change, reset)

    async def quota(self, user: User) -> str:
        """`/quota`: what the user has used and has left (an admin: no quotas)."""
        view = await self.engine.quotas.view(user.platform, user.user_id, exempt=user.admin)
        return quota_text(view)
