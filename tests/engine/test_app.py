"""`wanbot serve` and `wanbot queue`, and how the composition root loads front ends."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from bot.app import ADAPTERS, App, check_front_ends, load_adapter, read_chats
from bot.cli.serve import ALONE, format_age, print_queue
from bot.config import CHAT_SECTIONS, Config
from bot.config_errors import validate_section
from bot.errors import ConfigError
from fakes.comfy_server import FakeComfy
from fakes.frontend import RecordingFrontEnd
from tests.engine.conftest import WorldFactory, make_config
from workflows.schema import bundled_object_info

ROOT = Path(__file__).resolve().parents[2]


class StartableFrontEnd(RecordingFrontEnd):
    started = False

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False


# This module is also an adapter package, as `bot.app` loads one: its settings model and the
# three functions of the contract.
class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    greeting: str = "hello"


def read_settings(section: Any, env: Mapping[str, str], source: str) -> Settings:
    return validate_section(Settings, section, source, "test")


def create(config: Config, settings: Settings, engine: Any) -> StartableFrontEnd:
    return StartableFrontEnd(settings)


async def check(config: Config, settings: Settings) -> tuple[bool, str]:
    return True, f"test: says {settings.greeting}"


TEST_ADAPTERS = {"test": "tests.engine.test_app"}


async def test_app_loads_adapters_by_import_path_with_their_own_settings(tmp_path: Path) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = make_config(tmp_path, [fake.url])
        assert read_chats(config) == []  # no chat section
        config.chats["test"] = {"greeting": "hi"}
        app = App(config, read_chats(config, table=TEST_ADAPTERS))
        await app.start()
        try:
            adapter = app.adapters[0]
            assert isinstance(adapter, StartableFrontEnd) and adapter.started
            assert adapter.settings == Settings(greeting="hi")
        finally:
            await app.stop()
        assert not adapter.started
        assert await check_front_ends(config, table=TEST_ADAPTERS) == [(True, "test: says hi")]
        config.chats["test"] = {"greting": "hi"}
        assert await check_front_ends(config, table=TEST_ADAPTERS) == [
            (
                False,
                "test: Invalid configuration in config:\n  - key 'test.greting' is not a known "
                "setting: remove it or check its spelling (see config.example.toml).",
            )
        ]


def test_every_chat_section_has_an_adapter() -> None:
    assert set(ADAPTERS) == set(CHAT_SECTIONS)


def test_a_section_without_an_adapter_package_is_an_unknown_key() -> None:
    with pytest.raises(ConfigError) as raised:
        load_adapter("nowhere", "adapters.nowhere", "config.toml")
    assert str(raised.value) == (
        "Invalid configuration in config.toml:\n  - key 'nowhere' is not a known setting: "
        "remove it or check its spelling (see config.example.toml)."
    )
    with pytest.raises(ConfigError, match="Cannot load the front end 'json': it has no"):
        load_adapter("json", "json")


@pytest.mark.parametrize("command", ["serve", "check", "queue"])
async def test_a_discord_section_is_read_by_its_adapter(tmp_path: Path, command: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[comfy]\n[[comfy.hosts]]\nname = "gpu-1"\nurl = "http://127.0.0.1:9"\n'
        f'[storage]\ndatabase = "{tmp_path / "db.sqlite"}"\n[discord]\nguild_ids = [1]\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "WANBOT_DISCORD_TOKEN"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", command, "--config", str(config),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert (proc.returncode, out) == (1, b"")
    assert err.decode().splitlines() == [
        f"wanbot: Invalid configuration in {config}: - key 'discord.token' is required: set it, "
        "or the environment variable WANBOT_DISCORD_TOKEN (the bot token from the Discord "
        "developer portal)."
    ]


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
