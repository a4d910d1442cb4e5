"""The real discord.py client against the fake Discord (REST, gateway and CDN on 127.0.0.1).

`fake` starts a FakeDiscord and points discord.py at it for the test. `Bot` is a plain
`discord.Client` with an `app_commands.CommandTree`; `running(bot)` logs it in, connects it to
the fake gateway, waits for its READY (GUILD_CREATE included), and closes it on exit.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

with warnings.catch_warnings():
    # discord.py's voice player imports `audioop` (deprecated since 3.11); we use no voice.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

from fakes.discord_server import TOKEN, FakeDiscord, discord_pointed_at


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        with discord_pointed_at(server):
            yield server


class Bot(discord.Client):
    """A discord.py client with a command tree; `seen` collects what its handlers saw."""

    def __init__(self, **options: Any) -> None:
        # discord.py waits this long after the last GUILD_CREATE before READY (2 s by default).
        options.setdefault("guild_ready_timeout", 0.05)
        super().__init__(intents=discord.Intents.default(), **options)
        self.tree = app_commands.CommandTree(self)
        self.ready = asyncio.Event()
        self.seen: dict[str, Any] = {}

    async def on_ready(self) -> None:
        self.ready.set()


@asynccontextmanager
async def running(bot: Bot, token: str = TOKEN) -> AsyncIterator[Bot]:
    """Start `bot` against the fake, wait until it is READY, and close it cleanly after."""
    task = asyncio.create_task(bot.start(token))
    ready = asyncio.create_task(bot.ready.wait())
    try:
        async with asyncio.timeout(20):
            await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # start() failed: raise its error here
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        await task
