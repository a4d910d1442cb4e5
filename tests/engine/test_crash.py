"""SIGKILL the engine's process with jobs queued and running; a restart finishes every job,
and each is delivered exactly once. The fake hosts live in this process and keep going."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

from bot.engine.jobs import JobStatus
from bot.engine.store import JobStore
from fakes.comfy_server import FakeComfy
from tests.engine.conftest import write_inputs
from workflows.schema import bundled_object_info

ROOT = Path(__file__).resolve().parents[2]
JOBS = 6


def _config(tmp: Path, urls: list[str]) -> Path:
    hosts = "\n".join(
        f'[[comfy.hosts]]\nname = "gpu-{i}"\nurl = "{url}"\n' for i, url in enumerate(urls, 1)
    )
    path = tmp / "config.toml"
    path.write_text(
        f"""[comfy]
request_timeout = 5.0

{hosts}
[storage]
database = "{tmp / "wanbot.db"}"
outputs = "{tmp / "outputs"}"
jobs = "{tmp / "jobs"}"

[queue]
max_queued_per_user = 10
health_interval = 0.05
progress_interval = 0.0
"""
    )
    return path


async def _engine(*args: str | Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.engine.crash_engine",
        *map(str, args),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )


async def _line(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    return (await proc.stdout.readline()).decode().strip()


async def test_sigkill_with_jobs_queued_and_running(tmp_path: Path) -> None:
    image = write_inputs(tmp_path / "chat")["image"]
    deliveries = tmp_path / "deliveries.jsonl"
    async with AsyncExitStack() as stack:
        fakes = [
            await stack.enter_async_context(FakeComfy(object_info=bundled_object_info(), hold=True))
            for _ in range(2)
        ]
        config = _config(tmp_path, [f.url for f in fakes])
        first = await _engine(config, deliveries, "--submit", JOBS, "--users", 3, "--image", image)
        try:
            assert await _line(first) == "submitted"
            for fake in fakes:  # one job running (held) on each host, the rest queued
                await fake.wait_running(await fake.wait_for_prompt(1))
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert first.returncode == -signal.SIGKILL
        # While the engine is dead, one host finishes its job; the other keeps running.
        finishing, running = fakes
        finishing.hold = False
        finishing.release()
        await finishing.wait_done(finishing.accepted[0])
        sockets = running.ws_connects
        second = await _engine(config, deliveries)
        try:
            assert await _line(second) == "submitted"
            await running.wait_for_ws(sockets + 1)  # the new engine re-attached to it
            running.hold = False
            running.release()
            assert await asyncio.wait_for(_line(second), 40) == "drained"
            assert await second.wait() == 0
        finally:
            if second.returncode is None:
                second.kill()
                await second.wait()

    lines = [json.loads(line) for line in deliveries.read_text().splitlines()]
    counts = Counter(line["job"] for line in lines)
    assert len(counts) == JOBS and set(counts.values()) == {1}, counts
    store = await JobStore.open(tmp_path / "wanbot.db")
    try:
        stored = [await store.get(job_id) for job_id in counts]
    finally:
        await store.close()
    assert all(j is not None and j.status is JobStatus.DONE for j in stored)
    # Exactly one prompt per job reached the GPUs: each job's own, whenever the kill came.
    prompts = sorted(j.prompt_id for j in stored if j is not None and j.prompt_id)
    assert sorted(fakes[0].accepted + fakes[1].accepted) == prompts
    assert len(prompts) == JOBS
