"""Discord front end (discord.py application commands): slash commands in, job cards and MP4s out.

The contract `bot.app` loads (see its docstring): `read_settings(section, env, source)` for
`[discord]` (`adapters.discord.config`), `create(config, settings, engine)` for
`wanbot serve` and `check(config, settings)` for `wanbot check`. discord.py is imported only
by the last two.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.discord.config import TOKEN_ENV, DiscordConfig, read_settings

if TYPE_CHECKING:
    from adapters.discord.app import DiscordBot
    from bot.frontend import Config, EngineAPI

__all__ = ["TOKEN_ENV", "check", "create", "read_settings"]


def create(config: Config, settings: DiscordConfig, engine: EngineAPI) -> DiscordBot:
    """The Discord adapter (a `bot.frontend.Adapter`); `start()` connects it."""
    from adapters.discord.app import DiscordBot

    return DiscordBot(config, settings, engine)


async def check(config: Config, settings: DiscordConfig) -> tuple[bool, str]:
    """Whether the `[discord]` section works (token shape, `GET /users/@me`), as one line."""
    from adapters.discord.connect import check as check_discord

    return await check_discord(settings)
