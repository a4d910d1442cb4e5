"""Starting the adapter: a refused token stops with one line; an unreachable Discord is retried
with a log line per attempt (no token in it) until it answers or the bot is stopped."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from adapters.discord import read_settings
from adapters.discord.app import DiscordBot
from bot.config import parse_config
from bot.errors import ConfigError
from fakes.discord_server import TOKEN, FakeDiscord

CONFIG = parse_config({"comfy": {"hosts": [{"name": "g", "url": "http://127.0.0.1:9"}]}}, env={})
WRONG = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.fake.wrong-token-x"


def bot_for(fake_url: str, gateway: str, token: str = TOKEN) -> DiscordBot:
    settings = read_settings(
        {"token": token, "api_base_url": fake_url, "gateway_url": gateway}, {}, "test"
    )
    engine: Any = None  # no command reaches the engine here
    return DiscordBot(CONFIG, settings, engine, guild_ready_timeout=0.05)


async def test_a_refused_token_stops_with_one_line() -> None:
    async with FakeDiscord() as fake:
        bot = bot_for(fake.api_url, fake.gateway_url, WRONG)
        with pytest.raises(ConfigError) as raised:
            await bot.start()
        await bot.stop()
    assert str(raised.value) == (
        f"The bot token was rejected by {fake.api_url}: check discord.token (or "
        "WANBOT_DISCORD_TOKEN) (reset it on the Bot page)."
    )


class Waiter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if len(self.lines) >= 2:  # a second attempt failed too: it is retrying
            self.seen.set()


async def test_an_unreachable_discord_is_retried_until_stopped() -> None:
    async with FakeDiscord() as fake:
        api, gateway = fake.api_url, fake.gateway_url
    # The fake is gone: nothing answers on its port now.
    bot = bot_for(api, gateway)
    bot.first_retry = 0.01
    waiter = Waiter()
    logger = logging.getLogger("adapters.discord.app")
    logger.addHandler(waiter)
    try:
        starting = asyncio.create_task(bot.start())
        retrying = asyncio.create_task(waiter.seen.wait())
        await asyncio.wait({starting, retrying}, return_when=asyncio.FIRST_COMPLETED)
        retrying.cancel()
        assert not starting.done(), starting.exception()  # still trying, not failed
        starting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await starting
        await bot.stop()
    finally:
        logger.removeHandler(waiter)
    assert waiter.lines and all("Discord is not reachable (" in line for line in waiter.lines)
    assert not any(TOKEN in line for line in waiter.lines)
