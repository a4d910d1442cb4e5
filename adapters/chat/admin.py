"""The admins' commands on any platform (/hosts, /pause, /resume, /drain, /block, /unblock,
/refetch):
the engine's admin actions and their answers. The platform decides who is an admin (before
calling any of these) and names the acting admin as `by` ("platform:user_id")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.chat import texts
from adapters.chat.markup import Markup
from bot.frontend import host_lines

if TYPE_CHECKING:
    from bot.frontend import AdminAPI, EngineAPI


class AdminActions:
    """Each admin command's action and answer, in the shared wording."""

    def __init__(self, engine: EngineAPI, markup: Markup) -> None:
        self.engine = engine
        self.markup = markup

    @property
    def admin(self) -> AdminAPI:
        return self.engine.admin

    async def hosts(self) -> str:
        """Each host, its jobs and VRAM, then whether the bot takes new jobs."""
        draining = self.admin.draining
        state = texts.draining(self.markup) if draining else texts.TAKING_JOBS
        leader = await self.admin.leader()  # several processes on one database
        led = [texts.leader(leader)] if leader is not None else []
        return "\n".join([*host_lines(await self.admin.hosts()), state, *led])

    async def pause(self, host: str, by: str) -> str:
        view = await self.admin.pause(host, by)
        return texts.paused(view.name, self.markup)

    async def resume(self, host: str | None, by: str) -> str:
        """A host takes jobs again; without one, the bot stops draining."""
        if not host:
            self.admin.undrain(by)
            return texts.UNDRAINED
        view = await self.admin.resume(host, by)
        return texts.resumed(view.name)

    def drain(self, by: str) -> str:
        self.admin.drain(by)
        return texts.draining(self.markup, now=True)

    async def refetch(self, job_id: str, by: str) -> str:
        """Fetch again a video that was made but could not be fetched (never run again)."""
        job = await self.engine.refetch(job_id.strip().strip("`"), by)
        return texts.REFETCHING.format(job=self.markup.code(job.id), host=job.host)

    async def block(self, user: str, by: str, shown: str) -> str:
        """Refuse `user`'s new jobs; `shown` is how the platform names them (a mention)."""
        await self.admin.block(user, by)
        return texts.blocked(shown)

    async def unblock(self, user: str, by: str, shown: str) -> str:
        await self.admin.unblock(user, by)
        return texts.unblocked(shown)
