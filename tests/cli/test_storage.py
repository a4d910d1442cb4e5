"""The real `wanbot queue` and `wanbot serve`, started from another folder than the config's:
the data is in the `data` folder beside the config."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.engine.jobs import Job, JobStatus
from bot.engine.retention import DAY
from bot.engine.store import JobStore
from bot.request import FileSet, InputFiles
from fakes.comfy_server import FakeComfy
from tests.cli.test_cli import ROOT, wanbot
from tests.factories import make_request
from workflows.schema import bundled_object_info

LINE_LIMIT = 30.0  # seconds for one line of serve's output; far more than it needs


def write_config(folder: Path, url: str) -> Path:
    """A config with the default, relative `[storage]` paths."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f'[comfy]\n[[comfy.hosts]]\nname = "gpu-1"\nurl = "{url}"\n')
    return path


async def add_ended_job(database: Path, jobs: Path, job_id: str, days_ago: float) -> Path:
    """Store a delivered job that ended `days_ago` days ago, with its files; returns its folder."""
    folder = jobs / job_id
    (folder / "input").mkdir(parents=True)
    image = folder / "input" / "image.png"
    image.write_bytes(b"png")
    job = Job(
        id=job_id,
        platform="test",
        user_id="u1",
        chat_id="c1",
        reply_target={},
        request=make_request(inputs=InputFiles(image=image)),
        files=FileSet[Path](image=folder / "image.png"),
        work_dir=folder,
        status=JobStatus.DONE,
        created_at=time.time() - days_ago * DAY,
        finished_at=time.time() - days_ago * DAY,
        delivered=True,
    )
    store = await JobStore.open(database)
    try:
        await store.add(job)
        await store.update(job, "finished_at", "delivered")
    finally:
        await store.close()
    return folder


async def read_until(stream: asyncio.StreamReader, text: str) -> list[str]:
    """Lines of `stream` up to and including the first that contains `text`."""
    seen: list[str] = []
    while not seen or text not in seen[-1]:
        line = await asyncio.wait_for(stream.readline(), LINE_LIMIT)
        assert line, f"serve exited before it said {text!r}:\n" + "".join(seen)
        seen.append(line.decode())
    return seen


async def serve_until(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    text: str,
    meanwhile: Callable[[], Awaitable[None]] | None = None,
) -> list[str]:
    """Run `wanbot ARGS` until a line of its stderr contains `text`, await `meanwhile` if
    given, then stop it with SIGTERM (as a service manager does) and expect a clean exit;
    its stderr lines up to `text`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env, stderr=asyncio.subprocess.PIPE
    )
    assert proc.stderr is not None
    try:
        seen = await read_until(proc.stderr, text)
        if meanwhile is not None:
            await meanwhile()
        proc.send_signal(signal.SIGTERM)
        # Keep reading: `-v` logs while stopping, and a full pipe would block the process.
        _, err = await asyncio.wait_for(proc.communicate(), LINE_LIMIT)
        assert proc.returncode == 0, err.decode()[-2000:]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return seen


async def test_queue_reads_the_database_beside_the_config(tmp_path: Path) -> None:
    config = write_config(tmp_path / "bot", "http://127.0.0.1:9")
    data = tmp_path / "bot" / "data"
    await add_ended_job(data / "wanbot.db", data / "jobs", "abcdef0123", 1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = await wanbot("queue", "--config", config.absolute(), cwd=elsewhere)
    assert result.code == 0, result.err
    assert "abcdef0123" in result.out and "test:u1" in result.out
    assert list(elsewhere.iterdir()) == []


async def test_serve_uses_the_storage_beside_the_config_and_prunes_old_job_files(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "bot"
    data = folder / "data"
    old = await add_ended_job(data / "wanbot.db", data / "jobs", "0123456789", 31)
    recent = await add_ended_job(data / "wanbot.db", data / "jobs", "9876543210", 2)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(folder, fake.url)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        removed = "removed the files of 1 job(s) that ended over 30 days"
        seen = await serve_until(["-v", "serve", "--config", str(config)], elsewhere, env, removed)
    database = data / "wanbot.db"
    assert any(line.startswith(f"wanbot: database {database},") for line in seen)
    assert not old.exists() and (recent / "input" / "image.png").is_file()
    assert list(elsewhere.iterdir()) == []


async def test_a_database_left_beside_the_config_is_named_not_hidden(tmp_path: Path) -> None:
    """Configs once kept the database beside themselves: starting afresh in `data` would hide
    the queue, the quotas and the settings, so every command stops and says what to move."""
    config = write_config(tmp_path / "bot", "http://127.0.0.1:9")
    await add_ended_job(tmp_path / "bot" / "wanbot.db", tmp_path / "bot" / "jobs", "abcdef0123", 1)
    result = await wanbot("queue", "--config", config, cwd=tmp_path)
    assert result.code == 1 and len(result.err.splitlines()) == 1
    assert f"still at {tmp_path / 'bot' / 'wanbot.db'}: move it" in result.err
    assert not (tmp_path / "bot" / "data").exists()
