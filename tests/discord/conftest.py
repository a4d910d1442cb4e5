"""The real discord.py client against the fake Discord (REST, gateway and CDN on 127.0.0.1).

`fake` starts a FakeDiscord and points discord.py at it for the test. `Bot` is a plain
`discord.Client` with an `app_commands.CommandTree`; `running(bot)` logs it in, connects it to
the fake gateway, waits for its READY (GUILD_CREATE included), and closes it on exit.

`harness(**discord)` starts FakeDiscord, FakeComfy, the engine on a SQLite store under
`tmp_path`, and WanBot's Discord adapter; `restart()` stops the bot and the engine and starts
new ones on the same store, as after a process restart.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # discord.py's voice player imports `audioop` (deprecated since 3.11); we use no voice.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord import app_commands

from adapters.discord import read_settings
from adapters.discord.app import DiscordBot
from adapters.discord.config import DiscordConfig
from bot.archive import Archive
from bot.config import Config, parse_config
from bot.engine.core import Engine
from bot.engine.store import JobStore
from fakes.comfy_server import FakeComfy
from fakes.discord_server import TOKEN, Call, FakeDiscord, discord_pointed_at
from fakes.discord_state import Interaction
from workflows.schema import bundled_object_info


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


# -- the real adapter and the real engine against fake Discord and ComfyUI ----------------------


@dataclass
class Harness:
    """FakeDiscord, FakeComfy, the engine on a SQLite store under `tmp` and the Discord adapter,
    pointed at the fake through `[discord] api_base_url` and `gateway_url`."""

    discord: FakeDiscord
    comfy: FakeComfy
    config: Config
    tmp: Path
    engine: Engine = field(init=False)
    store: JobStore = field(init=False)
    bot: DiscordBot = field(init=False)

    async def start(self) -> None:
        self.store = await JobStore.open(self.config.storage.database)
        self.engine = Engine(self.config, self.store, Archive(self.config.storage.outputs))
        try:
            self.bot = DiscordBot(self.config, self.settings, self.engine, guild_ready_timeout=0.05)
            self.engine.register(self.bot)
            await self.engine.start()
            await self.bot.start()
        except BaseException:
            if hasattr(self, "bot"):
                await self.bot.stop()
            await self.engine.stop()
            await self.store.close()
            raise

    async def stop(self) -> None:
        await self.bot.stop()
        await self.engine.stop()
        await self.store.close()

    async def restart(self) -> None:
        """Stop the bot and the engine and start new ones on the same store and fakes."""
        await self.stop()
        await self.start()

    @property
    def settings(self) -> DiscordConfig:
        return read_settings(self.config.chats["discord"], {}, "test config")

    def archived_videos(self) -> list[Path]:
        return sorted(self.config.storage.outputs.rglob("*.mp4"))


def make_config(
    tmp: Path,
    fake: FakeDiscord,
    comfy: FakeComfy,
    discord_section: dict[str, Any],
    queue: dict[str, Any] | None = None,
    limits: dict[str, Any] | None = None,
) -> Config:
    data: dict[str, Any] = {
        "comfy": {"hosts": [{"name": "fake", "url": comfy.url}], "request_timeout": 10.0},
        "storage": {
            "database": str(tmp / "wanbot.db"),
            "outputs": str(tmp / "outputs"),
            "jobs": str(tmp / "jobs"),
        },
        "queue": {"progress_interval": 0.0, **(queue or {})},
        "limits": limits or {},
        "discord": {
            "token": fake.token,
            "api_base_url": fake.api_url,
            "gateway_url": fake.gateway_url,
            "edit_interval": 0.0,
            **discord_section,
        },
    }
    return parse_config(data, "test config", env={})


HarnessFactory = Callable[..., AbstractAsyncContextManager[Harness]]


@pytest.fixture
def harness(tmp_path: Path) -> HarnessFactory:
    @asynccontextmanager
    async def factory(
        comfy: dict[str, Any] | None = None,
        queue: dict[str, Any] | None = None,
        limits: dict[str, Any] | None = None,
        roles: dict[int, str] | None = None,
        **discord_section: Any,
    ) -> AsyncIterator[Harness]:
        async with (
            FakeDiscord() as server,
            FakeComfy(**{"object_info": bundled_object_info(), **(comfy or {})}) as fake_comfy,
        ):
            server.roles.update(roles or {})  # the guild's roles, before READY
            config = make_config(tmp_path, server, fake_comfy, discord_section, queue, limits)
            h = Harness(server, fake_comfy, config, tmp_path)
            await h.start()
            try:
                yield h
            finally:
                await h.stop()

    return factory


async def answer_to(fake: FakeDiscord, run: Interaction) -> dict[str, Any]:
    """What the user saw as the bot's answer to `run` (the message), once it is there; a
    deferred answer is the first follow-up, which replaces the "thinking" message."""
    callback = await fake.response_to(run)
    if callback.payload["type"] in (4, 7):
        await fake.wait_until(lambda: run.original is not None)
        return fake.messages[run.original or 0]
    followup = await fake.wait_for(
        "create_followup_message", lambda c: c.params["token"] == run.token
    )
    return fake.messages[int(followup.response["id"])]


def is_video(call: Call) -> bool:
    return bool(call.files) and call.files[0].filename.endswith(".mp4")


def buttons_of(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]
