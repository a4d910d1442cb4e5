"""The real engine on a SQLite file under `tmp_path` (or a given PostgreSQL database), fake
ComfyUI hosts, a recording front end.

async with engine_world(hosts=2, comfy={"hold": True}, queue={...}) as world:
    job = await world.submit("alice")
    await world.engine.drain()
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.archive import Archive
from bot.config import Config, parse_config
from bot.dburl import PostgresUrl
from bot.engine.core import Engine
from bot.engine.jobs import Job
from bot.engine.store import JobStore
from bot.request import Ask, InputFiles, Mode, Order, Sender
from fakes.comfy_server import FakeComfy
from fakes.frontend import RecordingFrontEnd
from fakes.media import png_bytes, wav_bytes
from workflows.schema import bundled_object_info

DRAIN_LIMIT = 40.0  # seconds; far more than any test needs
# Small, fast jobs: the fake ComfyUI makes a real (tiny) MP4 for them.
FAST = {"frames": 17, "steps": 4, "size": (256, 256)}


def make_config(
    tmp: Path, urls: list[str], database: Path | PostgresUrl | None = None, **queue: Any
) -> Config:
    data: dict[str, Any] = {
        "comfy": {
            "hosts": [{"name": f"gpu-{i}", "url": url} for i, url in enumerate(urls, start=1)],
            "request_timeout": 5.0,
        },
        "storage": {
            "database": str(database or tmp / "wanbot.db"),
            "outputs": str(tmp / "outputs"),
            "jobs": str(tmp / "jobs"),
        },
        "queue": {"progress_interval": 0.0, "health_interval": 0.05, **queue},
    }
    return parse_config(data, "test config", env={})


def write_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / "photo.png"
    image.write_bytes(png_bytes(320, 240))
    audio = folder / "speech.wav"
    audio.write_bytes(wav_bytes(seconds=0.6))
    return {"image": image, "audio": audio}


@dataclass
class World:
    tmp: Path
    fakes: list[FakeComfy]
    config: Config
    inputs: dict[str, Path]
    front: RecordingFrontEnd = field(default_factory=RecordingFrontEnd)
    engine: Engine = field(init=False)
    store: JobStore = field(init=False)

    async def start(self) -> None:
        self.store = await JobStore.open(self.config.storage.database)
        self.engine = Engine(self.config, self.store, Archive(self.config.storage.outputs))
        self.engine.delivery_backoff = 0.0
        self.engine.register(self.front)
        await self.engine.start()

    async def stop(self) -> None:
        await self.engine.stop()
        await self.store.close()

    async def restart(self, front: RecordingFrontEnd | None = None) -> None:
        await self.stop()
        if front is not None:
            self.front = front
        await self.start()

    def release_all(self) -> None:
        """Stop holding jobs on every fake host, including prompts not submitted yet."""
        for fake in self.fakes:
            fake.hold = False
            fake.release()

    async def drain(self) -> None:
        """`engine.drain()`, dumping every task's stack if it hangs (to debug, not to wait)."""
        try:
            async with asyncio.timeout(DRAIN_LIMIT):
                await self.engine.drain()
        except TimeoutError:
            for task in asyncio.all_tasks():
                task.print_stack(file=sys.stderr)
            raise

    async def submit(
        self, user: str, mode: Mode = Mode.I2V, prompt: str = "a cat", **overrides: Any
    ) -> Job:
        inputs = InputFiles(
            image=self.inputs["image"],
            audio=self.inputs["audio"] if mode is Mode.INFINITETALK else None,
        )
        # An override given as None is left out (the job takes the default, or /settings).
        given = {k: v for k, v in {**FAST, **overrides}.items() if v is not None}
        ask = Ask(mode, prompt, inputs, given)
        sender = Sender(self.front.platform, user, f"chat-{user}")
        return await self.engine.submit(Order(ask, sender, {"chat": user}))


WorldFactory = Callable[..., AbstractAsyncContextManager[World]]


@pytest.fixture
def engine_world(tmp_path: Path) -> WorldFactory:
    @asynccontextmanager
    async def factory(
        hosts: int = 1,
        comfy: dict[str, Any] | None = None,
        schemas: list[dict[str, Any]] | None = None,
        database: Path | PostgresUrl | None = None,
        **queue: Any,
    ) -> AsyncIterator[World]:
        """`schemas`: each host's own /object_info (one host per schema); `database`: the
        store's (a SQLite file under `tmp_path` unless given)."""
        async with AsyncExitStack() as stack:
            fakes = [
                await stack.enter_async_context(FakeComfy(object_info=info, **(comfy or {})))
                for info in schemas or [bundled_object_info()] * hosts
            ]
            config = make_config(tmp_path, [f.url for f in fakes], database, **queue)
            world = World(tmp_path, fakes, config, write_inputs(tmp_path / "chat"))
            await world.start()
            try:
                yield world
            finally:
                await world.stop()

    return factory
