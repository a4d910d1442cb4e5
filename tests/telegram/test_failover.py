"""Two real `wanbot serve` processes on one PostgreSQL database, with Telegram (polling) and one
ComfyUI host faked in this process: the leader is killed (SIGKILL) or frozen past its lease
(SIGSTOP, then SIGCONT) while a job runs; the standby takes over and re-attaches the prompt,
and the job is submitted to ComfyUI once and its video sent once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.dburl import PostgresUrl
from bot.engine.jobs import JobStatus
from bot.engine.store import JobStore
from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes
from fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import ROOT
from workflows.schema import bundled_object_info

FAILOVER = 2.0  # seconds: [queue] failover_seconds
WITHIN = 60.0  # seconds for anything to happen, far above FAILOVER under load
pytestmark = pytest.mark.timeout(240)


class Serve:
    """One `wanbot serve` subprocess; its stderr lines are collected as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._more = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            async with self._more:
                self.lines.append(line.decode())
                self._more.notify_all()
        async with self._more:
            self._more.notify_all()

    async def line(self, text: str) -> str:
        """The first line that contains `text` (waiting for it), or fail saying what came."""
        async with asyncio.timeout(WITHIN), self._more:
            while True:
                found = [line for line in self.lines if text in line]
                if found:
                    return found[0]
                assert not self._reader.done(), f"{text!r} never came: {self.log}"
                await self._more.wait()

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def exited(self) -> int:
        async with asyncio.timeout(WITHIN):
            code = await self.proc.wait()
            await self._reader
        return code

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen one must run to stop
            self.proc.send_signal(signal.SIGTERM)
        return await self.exited()


@dataclass
class Cluster:
    tg: FakeTelegram
    comfy: FakeComfy
    config: Path
    url: PostgresUrl

    async def serve(self) -> Serve:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            "--config",
            str(self.config),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return Serve(proc)

    async def job(self) -> str:
        """Send a job; once it runs on the host and its update is confirmed, its prompt id."""
        await self.tg.send_message(
            photo=self.tg.photo(png_bytes(640, 360), 640, 360),
            caption="/i2v a boat on a lake --steps 2",
        )
        prompt_id = await self.comfy.wait_for_prompt()
        await self.comfy.wait_running(prompt_id)
        # The leader asked for the updates after it: a new leader does not get it again.
        await self.tg.wait_for(
            "getUpdates", lambda c: int(c.fields.get("offset") or 0) > 0, within=WITHIN
        )
        return prompt_id

    async def delivered_once(self, prompt_id: str) -> None:
        """Wait until the job is done, then check it ran and was sent exactly once."""
        await self.tg.wait_for("sendVideo", within=WITHIN)
        # The leader edits the card to "done" only after it committed the job as done.
        await self.tg.wait_text("done.", within=WITHIN)
        store = await JobStore.open(self.url)
        try:
            (job,) = await store.recent()
            assert job.status is JobStatus.DONE
        finally:
            await store.close()
        assert job.prompt_id == prompt_id and job.delivered
        assert len(self.tg.of("sendVideo")) == 1
        assert self.comfy.accepted == [prompt_id]


@asynccontextmanager
async def cluster(tmp_path: Path, url: PostgresUrl) -> AsyncIterator[Cluster]:
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info(), hold=True) as comfy,
    ):
        config = tmp_path / "config.toml"
        # Every process shares the job and output folders (a volume all replicas mount).
        config.write_text(
            f"""
[[comfy.hosts]]
name = "fake"
url = "{comfy.url}"

[storage]
database = "{url}"
outputs = "{tmp_path / "outputs"}"
jobs = "{tmp_path / "jobs"}"

[queue]
failover_seconds = {FAILOVER}
progress_interval = 0.0

[telegram]
token = "{tg.token}"
base_url = "{tg.base_url}"
base_file_url = "{tg.base_file_url}"
poll_timeout = 1.0
edit_interval = 0.0
"""
        )
        yield Cluster(tg, comfy, config, url)


async def two_serves(world: Cluster) -> tuple[Serve, Serve]:
    first = await world.serve()
    await first.line("wanbot: leading on")
    second = await world.serve()
    await second.line("wanbot: standby: ")
    return first, second


async def test_the_standby_takes_over_a_killed_leader_and_delivers_once(
    tmp_path: Path, pg_url: PostgresUrl
) -> None:
    async with cluster(tmp_path, pg_url) as world:
        leader, standby = await two_serves(world)
        try:
            prompt_id = await world.job()
            leader.proc.kill()
            assert await leader.exited() == -signal.SIGKILL
            await standby.line("wanbot: leading on")
            world.comfy.release(prompt_id)  # re-attached by its id, or fetched from history
            await world.delivered_once(prompt_id)
        finally:
            await leader.stop()
            code = await standby.stop()
    assert code == 0, standby.log
    assert "Traceback" not in standby.log


async def test_a_frozen_leader_resumed_after_a_takeover_steps_down_without_acting(
    tmp_path: Path, pg_url: PostgresUrl
) -> None:
    async with cluster(tmp_path, pg_url) as world:
        old, new = await two_serves(world)
        try:
            prompt_id = await world.job()
            old.proc.send_signal(signal.SIGSTOP)  # frozen with its connections open
            await new.line("wanbot: leading on")
            world.comfy.release(prompt_id)
            await world.delivered_once(prompt_id)
            old.proc.send_signal(signal.SIGCONT)  # it wakes up holding the job as running
            assert await old.exited() == 75, old.log
            await new.line("wanbot: leading on")
            await world.delivered_once(prompt_id)  # still once: the old one did not act
            cancels = [r for r in world.comfy.requests if r.path in ("/interrupt", "/queue")]
            assert [r for r in cancels if r.method == "POST"] == []
        finally:
            await old.stop()
            code = await new.stop()
    assert "another process leads now" in old.log
    assert code == 0, new.log
