"""Admin commands on Discord: /hosts, /pause, /resume, /drain, /block, /unblock.

Admins are the `queue.admins` entries `discord:<user id>` and the members of the roles in
`[discord] admin_roles`; anyone else gets a refusal only they see. `/pause` and `/resume`
offer the configured host names as choices; `/block` takes a user picked from the server.
Every action is logged by the engine with who did it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from adapters.discord import texts
from adapters.discord.frontend import PLATFORM
from adapters.discord.handlers import Handlers, guarded, say
from bot.frontend import Config, UserError, host_lines, user_key

MAX_CHOICES = 25


def register(tree: app_commands.CommandTree[Any], handlers: Handlers, config: Config) -> None:
    """Add the admin commands to `tree`."""
    names = [h.name for h in config.comfy.hosts][:MAX_CHOICES]
    hosts = [app_commands.Choice(name=n, value=n) for n in names]

    def admin_only(
        work: Callable[[discord.Interaction, str], Awaitable[None]],
    ) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def run(interaction: discord.Interaction) -> None:
            async def checked() -> None:
                if not handlers.is_admin(interaction):
                    raise UserError(texts.ADMIN_ONLY)
                await work(interaction, user_key(PLATFORM, str(interaction.user.id)))

            await guarded(interaction, checked)

        return run

    @tree.command(name="hosts", description=texts.HOSTS)
    async def hosts_(interaction: discord.Interaction) -> None:
        async def work(interaction: discord.Interaction, by: str) -> None:
            admin = handlers.engine.admin
            await interaction.response.defer(ephemeral=True, thinking=True)
            state = texts.DRAINING if admin.draining else texts.TAKING_JOBS
            await say(interaction, "\n".join([*host_lines(await admin.hosts()), state]))

        await admin_only(work)(interaction)

    @tree.command(name="pause", description=texts.PAUSE)
    @app_commands.describe(host=texts.HOST_OPTION)
    @app_commands.choices(host=hosts)
    async def pause(interaction: discord.Interaction, host: str) -> None:
        async def work(interaction: discord.Interaction, by: str) -> None:
            view = await handlers.engine.admin.pause(host, by)
            await say(interaction, texts.PAUSED.format(host=view.name))

        await admin_only(work)(interaction)

    @tree.command(name="resume", description=texts.RESUME)
    @app_commands.describe(host=texts.RESUME_OPTION)
    @app_commands.choices(host=hosts)
    async def resume(interaction: discord.Interaction, host: str | None = None) -> None:
        async def work(interaction: discord.Interaction, by: str) -> None:
            if host is None:
                handlers.engine.admin.undrain(by)
                await say(interaction, texts.UNDRAINED)
                return
            view = await handlers.engine.admin.resume(host, by)
            await say(interaction, texts.RESUMED.format(host=view.name))

        await admin_only(work)(interaction)

    @tree.command(name="drain", description=texts.DRAIN)
    async def drain(interaction: discord.Interaction) -> None:
        async def work(interaction: discord.Interaction, by: str) -> None:
            handlers.engine.admin.drain(by)
            await say(interaction, texts.DRAINING_NOW)

        await admin_only(work)(interaction)

    @tree.command(name="block", description=texts.BLOCK)
    @app_commands.describe(user=texts.USER_OPTION)
    async def block(interaction: discord.Interaction, user: discord.User) -> None:
        async def work(interaction: discord.Interaction, by: str) -> None:
            await handlers.engine.admin.block(user_key(PLATFORM, str(user.id)), by)
            await say(interaction, texts.BLOCKED.format(user=user.mention))

        await admin_only(work)(interaction)

    @tree.command(name="unblock", description=texts.UNBLOCK)
    @app_commands.describe(user=texts.USER_OPTION)
    async def unblock(interaction: discord.Interaction, user: discord.User) -> None:
        async def work(interaction: discord.Interaction, by: str) -> None:
            await handlers.engine.admin.unblock(user_key(PLATFORM, str(user.id)), by)
            await say(interaction, texts.UNBLOCKED.format(user=user.mention))

        await admin_only(work)(interaction)
