"""The real bot (PTB Application, polling) and the real engine, against fake Telegram and ComfyUI.

`harness(**telegram)` starts FakeTelegram, FakeComfy, the engine on a SQLite store under
`tmp_path`, and the Telegram adapter; `restart()` stops the bot and the engine and starts new
ones on the same store, as after a process restart. `write_config` and `start_wanbot` run the
real `wanbot` command against the same fakes.
"""

from __future__ import annotations

import os

os.environ["PTB_TIMEDELTA"] = "1"  # before telegram is imported: no duration warnings

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.telegram import create, read_settings
from adapters.telegram.app import TelegramBot
from adapters.telegram.config import TelegramConfig
from bot.archive import Archive
from bot.config import Config, parse_config
from bot.engine.core import Engine
from bot.engine.store import JobStore
from fakes.comfy_server import FakeComfy
from fakes.telegram_server import FakeTelegram
from workflows.schema import bundled_object_info

ROOT = Path(__file__).resolve().parents[2]
COMFY_TOKEN = "comfy-secret-bearer-token"
WEBHOOK_SECRET = "webhook-secret-value"


@dataclass
class Harness:
    tg: FakeTelegram
    comfy: FakeComfy
    config: Config
    tmp: Path
    engine: Engine
    store: JobStore
    bot: TelegramBot

    async def start(self) -> None:
        self.store = await JobStore.open(self.config.storage.database)
        self.engine = Engine(self.config, self.store, Archive(self.config.storage.outputs))
        self.bot = create(self.config, self.telegram, self.engine)
        self.engine.register(self.bot)
        await self.engine.start()
        await self.bot.start()

    async def stop(self) -> None:
        await self.bot.stop()
        await self.engine.stop()
        await self.store.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def telegram(self) -> TelegramConfig:
        return read_settings(self.config.chats["telegram"], {}, "test config")

    def archived_videos(self) -> list[Path]:
        return sorted(self.config.storage.outputs.rglob("*.mp4"))


def make_config(
    tmp: Path,
    tg: FakeTelegram,
    comfy: FakeComfy,
    telegram: dict[str, Any],
    queue: dict[str, Any] | None = None,
) -> Config:
    data: dict[str, Any] = {
        "comfy": {"hosts": [{"name": "fake", "url": comfy.url}], "request_timeout": 10.0},
        "storage": {
            "database": str(tmp / "wanbot.db"),
            "outputs": str(tmp / "outputs"),
            "jobs": str(tmp / "jobs"),
        },
        "queue": {"progress_interval": 0.0, **(queue or {})},
        "telegram": {
            "token": tg.token,
            "base_url": tg.base_url,
            "base_file_url": tg.base_file_url,
            "edit_interval": 0.0,
            "album_window": 0.05,
            "poll_timeout": 5.0,
            **telegram,
        },
    }
    return parse_config(data, "test config", env={})


def write_config(tmp: Path, tg: FakeTelegram, comfy: FakeComfy) -> Path:
    """A config.toml for the real CLI; it holds a host token and a webhook secret too."""
    path = tmp / "config.toml"
    path.write_text(
        f"""
[[comfy.hosts]]
name = "fake"
url = "{comfy.url}"
token = "{COMFY_TOKEN}"

[storage]
database = "{tmp / "wanbot.db"}"
outputs = "{tmp / "outputs"}"
jobs = "{tmp / "jobs"}"

[telegram]
token = "{tg.token}"
base_url = "{tg.base_url}"
base_file_url = "{tg.base_file_url}"
poll_timeout = 5.0
webhook_secret = "{WEBHOOK_SECRET}"
"""
    )
    return path


async def start_wanbot(*args: str | Path) -> asyncio.subprocess.Process:
    """The real `wanbot` command in a subprocess, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *map(str, args),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_wanbot(*args: str | Path) -> tuple[int, str, str]:
    """Run `wanbot` to the end: exit code, stdout, stderr."""
    proc = await start_wanbot(*args)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


HarnessFactory = Callable[..., AbstractAsyncContextManager[Harness]]


@pytest.fixture
def harness(tmp_path: Path) -> HarnessFactory:
    @asynccontextmanager
    async def factory(
        comfy: dict[str, Any] | None = None,
        queue: dict[str, Any] | None = None,
        **telegram: Any,
    ) -> AsyncIterator[Harness]:
        async with (
            FakeTelegram() as tg,
            FakeComfy(**{"object_info": bundled_object_info(), **(comfy or {})}) as fake,
        ):
            config = make_config(tmp_path, tg, fake, telegram, queue)
            h = Harness(tg, fake, config, tmp_path, None, None, None)  # type: ignore[arg-type]
            await h.start()
            try:
                yield h
            finally:
                await h.stop()

    return factory
