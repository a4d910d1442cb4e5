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
from fakes.media import mp4_bytes, png_bytes, wav_bytes
from workflows.schema import bundled_object_info

DRAIN_LIMIT = 40.0  # seconds; far more than any test needs
# Small, fast jobs: the fake ComfyUI makes a real (tiny) MP4 for them.
FAST = {"frames": 17, "steps": 4, "size": (256, 256)}


def make_config(
    tmp: Path,
    urls: list[str],
    backends: list[str] | None = None,
    database: Path | PostgresUrl | None = None,
    **queue: Any,
) -> Config:
    """`backends`: each host's `backend` setting (default: "auto" for all); `database`: the
    store's (a SQLite file under `tmp` unless given)."""
    chosen = backends or ["auto"] * len(urls)
    hosts = [
        {"name": f"gpu-{i}", "url": url, "backend": backend}
        for i, (url, backend) in enumerate(zip(urls, chosen, strict=True), start=1)
    ]
    data: dict[str, Any] = {
        "comfy": {
            "hosts": hosts,
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
    video = folder / "moves.mp4"
    video.write_bytes(mp4_bytes(width=160, height=96, frames=12))
    return {"image": image, "audio": audio, "video": video}


def write_pose(folder: Path, count: int) -> list[Path]:
    """`count` pose frames (the same picture), as a user sends them for animate."""
    frames = [folder / f"pose_{i}.png" for i in range(count)]
    for frame in frames:
        frame.write_bytes(png_bytes(256, 256))
    return frames


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

    def _pose(self, mode: Mode) -> list[Path]:
        """Pose frames for animate, a video of someone moving for animate2."""
        if mode is Mode.ANIMATE:
            return write_pose(self.tmp / "chat", 9)
        return [self.inputs["video"]] if mode is Mode.ANIMATE2 else []

    async def submit(
        self, user: str, mode: Mode = Mode.I2V, prompt: str = "a cat", **overrides: Any
    ) -> Job:
        inputs = InputFiles(
            image=self.inputs["image"],
            audio=self.inputs["audio"] if mode is Mode.INFINITETALK else None,
            pose=self._pose(mode),
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
        backends: list[str] | None = None,
        database: Path | PostgresUrl | None = None,
        **queue: Any,
    ) -> AsyncIterator[World]:
        """`schemas`: each host's own /object_info (one host per schema); `backends`: each
        host's configured backend; `database`: the store's (a SQLite file under `tmp_path`
        unless given)."""
        async with AsyncExitStack() as stack:
            fakes = [
                await stack.enter_async_context(FakeComfy(object_info=info, **(comfy or {})))
                for info in schemas or [bundled_object_info()] * hosts
            ]
            config = make_config(tmp_path, [f.url for f in fakes], backends, database, **queue)
            world = World(tmp_path, fakes, config, write_inputs(tmp_path / "chat"))
            await world.start()
            try:
                yield world
            finally:
                await world.stop()

    return factory
