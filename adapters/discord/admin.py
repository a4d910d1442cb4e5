"""Admin commands on Discord: /hosts, /pause, /resume, /drain, /block, /unblock.

Admins are the `queue.admins` entries `discord:<user id>` and the members of the roles in
`[discord] admin_roles`; anyone else gets a refusal only they see. `/pause` and `/resume`
offer the configured host names as choices; `/block` takes a user picked from the server.
Every action is logged by the engine with who did it.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from adapters.chat import texts as shared
from adapters.chat.actions import User
from adapters.chat.admin import AdminActions
from adapters.discord import texts
from adapters.discord.guard import Access, say
from bot.frontend import Config, EngineAPI, UserError, user_key

MAX_CHOICES = 25


def _admin(access: Access, interaction: discord.Interaction) -> User:
    """The acting admin; a refusal for anyone else."""
    user = access.user(interaction)
    if not user.admin:
        raise UserError(shared.ADMIN_ONLY)
    return user


def register(
    tree: app_commands.CommandTree[Any], engine: EngineAPI, access: Access, config: Config
) -> None:
    """Add the admin commands to `tree` (whose check and error policy they share)."""
    names = [h.name for h in config.comfy.hosts][:MAX_CHOICES]
    hosts = [app_commands.Choice(name=n, value=n) for n in names]
    actions = AdminActions(engine, texts.MARKUP)

    @tree.command(name="hosts", description=texts.HOSTS)
    async def hosts_(interaction: discord.Interaction) -> None:
        _admin(access, interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await say(interaction, await actions.hosts())

    @tree.command(name="pause", description=texts.PAUSE)
    @app_commands.describe(host=texts.HOST_OPTION)
    @app_commands.choices(host=hosts)
    async def pause(interaction: discord.Interaction, host: str) -> None:
        by = _admin(access, interaction).key
        await say(interaction, await actions.pause(host, by))

    @tree.command(name="resume", description=texts.RESUME)
    @app_commands.describe(host=texts.RESUME_OPTION)
    @app_commands.choices(host=hosts)
    async def resume(interaction: discord.Interaction, host: str | None = None) -> None:
        by = _admin(access, interaction).key
        await say(interaction, await actions.resume(host, by))

    @tree.command(name="drain", description=texts.DRAIN)
    async def drain(interaction: discord.Interaction) -> None:
        await say(interaction, actions.drain(_admin(access, interaction).key))

    @tree.command(name="refetch", description=texts.REFETCH)
    @app_commands.describe(job=texts.REFETCH_OPTION)
    async def refetch(interaction: discord.Interaction, job: str) -> None:
        by = _admin(access, interaction).key
        await say(interaction, await actions.refetch(job, by))

    @tree.command(name="block", description=texts.BLOCK)
    @app_commands.describe(user=texts.USER_OPTION)
    async def block(interaction: discord.Interaction, user: discord.User) -> None:
        by = _admin(access, interaction).key
        blocked = user_key(access.user(interaction).platform, str(user.id))
        await say(interaction, await actions.block(blocked, by, user.mention))

    @tree.command(name="unblock", description=texts.UNBLOCK)
    @app_commands.describe(user=texts.USER_OPTION)
    async def unblock(interaction: discord.Interaction, user: discord.User) -> None:
        by = _admin(access, interaction).key
        blocked = user_key(access.user(interaction).platform, str(user.id))
        await say(interaction, await actions.unblock(blocked, by, user.mention))
