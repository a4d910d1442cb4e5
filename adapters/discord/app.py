"""The Discord front end as one object: the discord.py client, its commands, the `FrontEnd`.

`DiscordBot` is what `bot.app` starts: `start()` logs in (syncing the commands, globally or
to `guild_ids`), connects to the gateway and returns once READY; `stop()` disconnects. It also
is the engine's `FrontEnd` for the "discord" platform, delegating to `DiscordFrontEnd`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from adapters.discord import admin, extend, talking
from adapters.discord.buttons import JobButton
from adapters.discord.commands import register
from adapters.discord.config import DiscordConfig
from adapters.discord.connect import pointed, rejected, token_problem
from adapters.discord.frontend import DiscordFrontEnd
from adapters.discord.guard import PLATFORM, Access, WanTree
from adapters.discord.handlers import Handlers
from bot.frontend import Config, ConfigError, Job, JobEvent, JobResult

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

log = logging.getLogger(__name__)
FIRST_RETRY = 1.0
LONGEST_RETRY = 60.0
# discord.py reconnects (and resumes) by itself, usually within a second or two; a gateway
# down longer than this is reported by `/readyz`.
RECONNECT_GRACE = 5.0


class WanClient(discord.Client):
    """A discord.py client with a command tree that checks `access` for every command;
    `buttons` handles the persistent job buttons."""

    def __init__(
        self, settings: DiscordConfig, access: Access, buttons: Any = None, **options: Any
    ) -> None:
        # No privileged intent: slash commands and context menus carry what they need.
        super().__init__(intents=discord.Intents.default(), **options)
        self.settings = settings
        self.tree = WanTree(self, access)
        self.buttons = buttons
        self.add_dynamic_items(JobButton)
        # When the gateway connection was lost (monotonic clock); None while it is up.
        self.disconnected_at: float | None = None

    def dispatch(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        """Note the gateway's state before anyone hears the event, so a listener waiting
        for "disconnect" or "resumed" sees the state that follows it."""
        if event == "disconnect" and self.disconnected_at is None:
            self.disconnected_at = time.monotonic()
        elif event in ("ready", "resumed"):
            self.disconnected_at = None
        super().dispatch(event, *args, **kwargs)

    async def setup_hook(self) -> None:
        """Register the commands: to each of `guild_ids` (instant) or globally."""
        if not self.settings.guild_ids:
            await self.tree.sync()
            return
        for guild_id in self.settings.guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)


class DiscordBot:
    """The Discord adapter: a `bot.frontend.Adapter`."""

    platform = PLATFORM
    # Seconds before the first new login attempt at start-up; doubled after each failure.
    first_retry = FIRST_RETRY
    reconnect_grace = RECONNECT_GRACE

    def __init__(
        self,
        config: Config,
        settings: DiscordConfig,
        engine: EngineAPI,
        *,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        self.config = config
        self.settings = settings
        self.engine = engine
        access = Access(config, settings)
        self.client = WanClient(settings, access, guild_ready_timeout=guild_ready_timeout)
        self.frontend = DiscordFrontEnd(self.client, config, settings)
        self.handlers = Handlers(engine, self.frontend, config, access)
        self.client.buttons = self.handlers
        register(self.client.tree, self.handlers, config)
        admin.register(self.client.tree, engine, access, config)
        extend.register(self.client.tree, self.handlers)
        talking.register(self.client.tree, self.handlers)
        self._pointed = contextlib.ExitStack()
        self._connection: asyncio.Task[None] | None = None

    # -- FrontEnd --------------------------------------------------------------------------

    async def on_event(self, job: Job, event: JobEvent) -> None:
        await self.frontend.on_event(job, event)

    async def deliver(self, job: Job, result: JobResult) -> None:
        await self.frontend.deliver(job, result)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync the commands, connect; return once READY. `ConfigError` on a bad token."""
        problem = token_problem(self.settings.token)
        if problem is not None:
            raise ConfigError(problem)
        self._pointed.enter_context(pointed(self.settings))
        await self._login()
        self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        try:
            await asyncio.wait({self._connection, ready}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if self._connection.done():
            self._connection.result()  # connect() failed: raise its error here
        user = self.client.user
        log.info("Discord bot %s is running", user.name if user else "?")

    async def _login(self) -> None:
        """Log in (and sync the commands), retrying while Discord cannot be reached, with one
        log line per attempt; a refused token is a `ConfigError` at once."""
        delay = self.first_retry
        while True:
            try:
                await self.client.login(self.settings.token or "")
                return
            except discord.LoginFailure as exc:
                raise ConfigError(rejected(self.settings)) from exc
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
            # Close the failed attempt's HTTP session; its connector closed with it, and
            # discord.py makes a new one at the next login only when none is set.
            await self.client.http.close()
            self.client.http.connector = discord.utils.MISSING
            log.warning("Discord is not reachable (%s); retrying in %.0f s", reason, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, LONGEST_RETRY)

    def connection_problem(self) -> str | None:
        """Why the gateway does not work (for `/readyz`), or None while it does: not READY,
        or disconnected for longer than a reconnection takes."""
        client = self.client
        if client.is_closed() or not client.is_ready():
            return "not connected"
        if client.disconnected_at is None:
            return None
        down = time.monotonic() - client.disconnected_at
        if down < self.reconnect_grace:
            return None
        return f"the gateway has been disconnected for {down:.0f} s"

    async def stop(self) -> None:
        """Disconnect; safe whatever `start` got to (also when it failed or was cancelled)."""
        await self.frontend.close()
        await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection
            self._connection = None
        self._pointed.close()
