"""`[discord]`: its settings, the token from the environment, `wanbot check`, secrets in logs."""

from __future__ import annotations

import logging

import pytest

from adapters.discord import check, read_settings
from adapters.discord.connect import token_problem
from bot import logs
from bot.app import read_chat
from bot.config import parse_config
from bot.errors import ConfigError
from fakes.discord_server import TOKEN, FakeDiscord

BASE = {"comfy": {"hosts": [{"name": "gpu-1", "url": "http://127.0.0.1:9"}]}}


def test_the_token_comes_from_the_file_or_the_environment() -> None:
    assert read_settings({"token": TOKEN}, {}, "c.toml").token == TOKEN
    from_env = read_settings({"guild_ids": [5]}, {"WANBOT_DISCORD_TOKEN": TOKEN}, "c.toml")
    assert (from_env.token, from_env.guild_ids) == (TOKEN, [5])
    with pytest.raises(ConfigError) as raised:
        read_settings({}, {}, "c.toml")
    assert str(raised.value) == (
        "Invalid configuration in c.toml:\n  - key 'discord.token' is required: set it, or the "
        "environment variable WANBOT_DISCORD_TOKEN (the bot token from the Discord developer "
        "portal)."
    )


def test_unknown_and_bad_keys_are_named() -> None:
    with pytest.raises(ConfigError, match=r"key 'discord\.guild_id' is not a known setting"):
        read_settings({"token": TOKEN, "guild_id": 1}, {}, "c.toml")
    with pytest.raises(ConfigError, match=r"discord\.edit_interval"):
        read_settings({"token": TOKEN, "edit_interval": -1}, {}, "c.toml")
    with pytest.raises(ConfigError, match=r"discord\.gateway_url"):
        read_settings({"token": TOKEN, "gateway_url": "http://x"}, {}, "c.toml")


@pytest.mark.parametrize("token", ["", "abc", "Bot " + TOKEN, TOKEN + " ", "a.b.c"])
def test_token_shape_is_checked(token: str) -> None:
    assert token_problem(token) is not None


def test_the_token_from_the_environment_never_reaches_a_log() -> None:
    root = logging.getLogger()
    config = parse_config({**BASE, "discord": {}}, env={})
    handler = logging.StreamHandler()
    root.addHandler(handler)
    try:
        read_chat(
            "discord", config.chats["discord"], "adapters.discord", {"WANBOT_DISCORD_TOKEN": TOKEN}
        )
        redacted = [f for f in handler.filters if isinstance(f, logs.RedactingFilter)]
        assert (
            redacted
            and redacted[0].redact(f"url /gateway?t={TOKEN}") == "url /gateway?t=[redacted]"
        )
    finally:
        root.removeHandler(handler)


async def test_check_reports_the_bot_or_what_is_wrong() -> None:
    config = parse_config(BASE, env={})
    async with FakeDiscord() as fake:
        settings = read_settings({"token": TOKEN, "api_base_url": fake.api_url}, {}, "c")
        works, line = await check(config, settings)
        assert (works, line) == (True, "discord: ready as wanbot (id 1100000000000000001)")
        wrong = settings.model_copy(
            update={"token": "MTEwMDAwMDAwMDAwMDAwMDAwMQ.fake.wrong-token-x"}
        )
        assert await check(config, wrong) == (
            False,
            f"discord: The bot token was rejected by {fake.api_url}: check discord.token (or "
            "WANBOT_DISCORD_TOKEN) (reset it on the Bot page).",
        )
        assert [c.endpoint for c in fake.calls] == ["get_current_user"] * 2
    works, line = await check(config, settings.model_copy(update={"token": "nope"}))
    assert not works and line.startswith(
        "discord: discord.token (or WANBOT_DISCORD_TOKEN) does not"
    )
    works, line = await check(config, settings)  # the fake is gone
    assert not works and line.startswith(f"discord: unreachable ({fake.api_url}): ")
