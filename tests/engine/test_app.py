"""`wanbot serve` and `wanbot queue`, and how the composition root loads front ends."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, configured_adapters, load_factory
from bot.cli.serve import ALONE, format_age, print_queue
from bot.config import Config
from bot.errors import ConfigError
from fakes.comfy_server import FakeComfy
from fakes.frontend import RecordingFrontEnd
from tests.engine.conftest import WorldFactory, make_config
from workflows.schema import bundled_object_info

ROOT = Path(__file__).resolve().parents[2]


class StartableFrontEnd(RecordingFrontEnd):
    started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False


def make_adapter(config: Config, engine: Any) -> StartableFrontEnd:
    return StartableFrontEnd()


async def test_app_loads_adapters_by_import_path(tmp_path: Path) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = make_config(tmp_path, [fake.url])
        assert configured_adapters(config) == {}  # no [telegram] section
        app = App(config, adapters={"test": "tests.engine.test_app:make_adapter"})
        await app.start()
        try:
            adapter = app.adapters[0]
            assert isinstance(adapter, StartableFrontEnd) and adapter.started
        finally:
            await app.stop()
        assert not adapter.started
    with pytest.raises(ConfigError, match="Cannot load the front end"):
        load_factory("adapters.nowhere:create")


async def test_serve_runs_the_engine_alone_until_sigterm(tmp_path: Path) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[comfy]\n[[comfy.hosts]]\nname = "gpu-1"\nurl = "{fake.url}"\n'
            f'[storage]\ndatabase = "{tmp_path / "db.sqlite"}"\n'
            f'outputs = "{tmp_path / "outputs"}"\njobs = "{tmp_path / "jobs"}"\n'
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from bot.cli.main import main; sys.exit(main())",
            "serve",
            "--config",
            str(config),
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        try:
            line = ""
            while ALONE not in line:
                line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
                assert line, "serve exited before it said it was running"
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_queue_lists_jobs_for_operators(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        running = await world.submit("alice")
        queued = await world.submit("bob")
        await world.fakes[0].wait_for_prompt(1)
        jobs = await world.store.recent()
        lines: list[str] = []

        class Out:
            def write(self, text: str) -> None:
                lines.append(text)

        print_queue(jobs, Out(), now=running.created_at + 75)  # type: ignore[arg-type]
        table = "".join(lines).splitlines()
        assert table[0].split() == ["ID", "USER", "MODE", "STATUS", "HOST", "PROGRESS", "AGE"]
        assert table[1].split()[:5] == [running.id, "test:alice", "i2v", "running", "gpu-1"]
        assert table[1].split()[-1] == "1m15s"
        assert table[2].split()[:5] == [queued.id, "test:bob", "i2v", "queued", "-"]
        world.release_all()
        await world.drain()


def test_format_age() -> None:
    assert [format_age(s) for s in (5, 61, 3700, 90000)] == ["5s", "1m01s", "1h01m", "1d01h"]
