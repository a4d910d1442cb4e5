"""The one way in on Discord: who may use the bot, and what a failure answers.

`WanTree` is the client's command tree: its `interaction_check` holds the allow-list for every
slash command and message menu (none can forget it), its `on_error` the shared error policy
(`adapters.chat.actions.reply_for`). Buttons and forms are not the tree's: they go through
`Access.guarded`, the same check and policy. Answers to the user are ephemeral.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from adapters.chat import texts as shared
from adapters.chat.actions import User, reply_for
from adapters.discord.config import DiscordConfig
from bot.frontend import Config, UserError, fit, user_key

log = logging.getLogger(__name__)
PLATFORM = "discord"
MESSAGE_LIMIT = 2000


async def say(interaction: discord.Interaction, text: str, **kwargs: Any) -> None:
    """Answer ephemerally: the response if not yet given, else a follow-up; cut to Discord's
    limit (a refused answer would leave the user with nothing)."""
    text = fit(text, MESSAGE_LIMIT)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(text, ephemeral=True, **kwargs)


class Access:
    """Who is an admin and who may use the bot, from `[discord]` and `queue.admins`."""

    def __init__(self, config: Config, settings: DiscordConfig) -> None:
        self.config = config
        self.settings = settings

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """In `queue.admins` (as `discord:<id>`) or a member of one of `admin_roles`."""
        user = interaction.user
        if user_key(PLATFORM, str(user.id)) in self.config.queue.admins:
            return True
        roles = {r.id for r in user.roles} if isinstance(user, discord.Member) else set()
        return bool(roles & set(self.settings.admin_roles))

    def user(self, interaction: discord.Interaction) -> User:
        """Who acts, with the one admin decision (ids or roles) the engine honours."""
        return User(PLATFORM, str(interaction.user.id), admin=self.is_admin(interaction))

    def allowed(self, interaction: discord.Interaction) -> bool:
        """Admins always. Elsewhere than `allowed_guilds` (when set; a DM is in no guild),
        nobody. Then everyone when no other list is set; else a listed user, a member of a
        listed role, or anyone in a listed channel."""
        s = self.settings
        user = interaction.user
        if self.is_admin(interaction):
            return True
        if s.allowed_guilds and interaction.guild_id not in s.allowed_guilds:
            return False
        if not (s.allowed_users or s.allowed_roles or s.allowed_channels):
            return True
        roles = {r.id for r in user.roles} if isinstance(user, discord.Member) else set()
        return (
            user.id in s.allowed_users
            or bool(roles & set(s.allowed_roles))
            or interaction.channel_id in s.allowed_channels
        )

    async def guarded(
        self, interaction: discord.Interaction, work: Callable[[], Awaitable[None]]
    ) -> None:
        """A button or a form: the allow-list, then `work`, under the error policy."""
        try:
            if not self.allowed(interaction):
                raise UserError(shared.NOT_ALLOWED)
            await work()
        except Exception as exc:
            await say(interaction, reply_for(exc, f"interaction {interaction.id}"))


class WanTree(app_commands.CommandTree[Any]):
    """The command tree whose check and error handler every command shares."""

    def __init__(self, client: discord.Client, access: Access) -> None:
        super().__init__(client)
        self.access = access

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """The allow-list, for every command and menu; a refused user is told why (an
        autocomplete has no room for it: it just gets no choices)."""
        if self.access.allowed(interaction):
            return True
        if interaction.type is not discord.InteractionType.autocomplete:
            await say(interaction, shared.NOT_ALLOWED)
        return False

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError, /
    ) -> None:
        """The error policy: a `UserError` verbatim, anything else logged with a reference."""
        cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await say(interaction, reply_for(cause, f"interaction {interaction.id}"))
