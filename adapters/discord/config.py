"""The `[discord]` section: its model, the token from the environment, the default limits.

`read_settings` is this adapter's part of the contract in `bot.app`: it validates the table as
read from the config file and returns the `DiscordConfig` the adapter runs with. Plain data:
importing it does not import discord.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.frontend import ConfigError, config_problems, validate_section

SECTION = "discord"
TOKEN_ENV = "WANBOT_DISCORD_TOKEN"
# What an interaction reports without server boosts; used when a job's own is unknown.
DEFAULT_UPLOAD = 10 * 1024 * 1024


class DiscordConfig(BaseModel):
    """The `[discord]` section, validated."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = None
    # Commands are synced to these guilds (instant) instead of globally (up to an hour).
    guild_ids: list[int] = Field(default_factory=list)
    # Only in these servers (and not in DMs) when set; then the three lists below.
    allowed_guilds: list[int] = Field(default_factory=list)
    allowed_users: list[int] = Field(default_factory=list)
    allowed_roles: list[int] = Field(default_factory=list)
    allowed_channels: list[int] = Field(default_factory=list)
    # Members of these roles are admins too (besides `queue.admins`' "discord:<id>").
    admin_roles: list[int] = Field(default_factory=list)
    edit_interval: float = Field(default=3.0, ge=0)
    # A Discord REST / gateway proxy (or a fake Discord in tests); Discord's own when unset.
    api_base_url: str | None = Field(default=None, pattern=r"^https?://")
    gateway_url: str | None = Field(default=None, pattern=r"^wss?://")


def read_settings(section: Any, env: Mapping[str, str], source: str) -> DiscordConfig:
    """`[discord]` as read from `source`, validated; the token may come from `TOKEN_ENV`.

    Raises `ConfigError` naming the key and the fix; a secret's value is never echoed.
    """
    discord = validate_section(DiscordConfig, section, source, SECTION)
    token = env.get(TOKEN_ENV)
    if token and not discord.token:
        discord.token = token
    if not discord.token:
        raise ConfigError(
            config_problems(
                source,
                [
                    f"key '{SECTION}.token' is required: set it, or the environment variable "
                    f"{TOKEN_ENV} (the bot token from the Discord developer portal)."
                ],
            )
        )
    return discord
