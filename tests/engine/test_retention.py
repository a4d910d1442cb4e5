"""Retention: ended jobs lose `jobs/<id>/` after `keep_job_files_days`; nothing else is touched."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import pytest

from bot.engine.jobs import Job, JobStatus
from bot.engine.retention import DAY, Retention
from bot.engine.store import JobStore
from bot.errors import InputError
from bot.request import FileSet, InputFiles
from tests.engine.conftest import WorldFactory
from tests.factories import make_request


async def _end(store: JobStore, job_id: str, days_ago: float, now: float) -> None:
    """Set a job's end time `days_ago` days before `now`, as the engine would have written it."""
    job = await store.get(job_id)
    assert job is not None
    job.finished_at = now - days_ago * DAY
    await store.update(job, "finished_at")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


async def test_old_ended_jobs_lose_their_files_and_cannot_be_rerolled(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        old = await world.submit("alice")
        recent = await world.submit("bob")
        await world.drain()
        world.fakes[0].hold = True
        running = await world.submit("carol")
        await world.fakes[0].wait_for_prompt(3)
        waiting = await world.submit("carol")  # one running job per user: this one waits
        cancelled = await world.engine.cancel("test", "carol", waiting.id)
        assert cancelled.status is JobStatus.CANCELLED

        now = time.time()
        await _end(world.store, old.id, 31, now)
        await _end(world.store, recent.id, 29, now)
        await _end(world.store, cancelled.id, 40, now)
        # Even an old end time on an active job's row must not make it lose its files.
        await _end(world.store, running.id, 40, now)
        archive = _files(world.config.storage.outputs)
        assert len(archive) == 4  # two videos, each with its JSON

        retention = Retention(world.store, world.config.storage.jobs, 30, clock=lambda: now)
        assert await retention.sweep() == 2

        assert not old.work_dir.exists() and not cancelled.work_dir.exists()
        assert (recent.work_dir / "input").is_dir() and (running.work_dir / "input").is_dir()
        assert _files(world.config.storage.outputs) == archive
        with pytest.raises(InputError, match=r"removed 30 days after it ended.*send the photo"):
            await world.engine.reroll(old.id, platform="test", user_id="alice")
        # Files removed by hand, not by retention: no claim about days.
        shutil.rmtree(recent.work_dir)
        with pytest.raises(InputError, match=r"no longer kept.*send the photo again"):
            await world.engine.reroll(recent.id, platform="test", user_id="bob")

        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [old.id, recent.id, running.id]


def _stored_job(job_id: str, jobs_dir: Path) -> Job:
    folder = jobs_dir / job_id
    (folder / "input").mkdir(parents=True)
    image = folder / "input" / "image.png"
    image.write_bytes(b"png")
    request = make_request(inputs=InputFiles(image=image))
    return Job(
        id=job_id,
        platform="test",
        user_id="u1",
        chat_id="c1",
        reply_target={},
        request=request,
        files=FileSet[Path](image=folder / "image.png"),
        work_dir=folder,
        status=JobStatus.DONE,
        created_at=1.0,
    )


async def _store_with(tmp: Path, ended_days_ago: dict[str, float], now: float) -> JobStore:
    store = await JobStore.open(tmp / "wanbot.db")
    for job_id, days in ended_days_ago.items():
        await store.add(_stored_job(job_id, tmp / "jobs"))
        await _end(store, job_id, days, now)
    return store


class Days:
    """A clock and a sleep for `Retention`: each sleep waits until the test lets a day pass."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.asked: list[float] = []
        self.sleeping = asyncio.Event()
        self._wake = asyncio.Event()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.sleeping.set()
        await self._wake.wait()
        self._wake.clear()
        self.now += seconds

    async def next_day(self) -> None:
        """Let the pending sleep end, and wait until the loop sleeps again."""
        self.sleeping.clear()
        self._wake.set()
        await self.sleeping.wait()


async def test_sweeps_at_start_then_once_a_day_and_stops_cleanly(tmp_path: Path) -> None:
    days = Days(now=1_000_000_000.0)
    store = await _store_with(tmp_path, {"aaaa01": 31, "bbbb02": 29.5, "cccc03": 1}, days.now)
    retention = Retention(store, tmp_path / "jobs", 30, clock=days.clock, sleep=days.sleep)
    try:
        retention.start()
        await days.sleeping.wait()  # the start-up sweep is done
        assert retention.running and days.asked == [DAY]
        assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == ["bbbb02", "cccc03"]
        await days.next_day()
        assert days.asked == [DAY, DAY]
        assert [p.name for p in (tmp_path / "jobs").iterdir()] == ["cccc03"]
        await retention.stop()
        assert not retention.running
    finally:
        await retention.stop()
        await store.close()


async def test_a_folder_that_cannot_be_removed_is_tried_again(tmp_path: Path) -> None:
    now = 1_000_000_000.0
    store = await _store_with(tmp_path, {"aaaa01": 40, "bbbb02": 35}, now)
    try:
        # rmtree refuses a symlink: the first job's folder cannot be removed this time.
        stuck = tmp_path / "jobs" / "aaaa01"
        shutil.move(stuck, tmp_path / "elsewhere")
        stuck.symlink_to(tmp_path / "elsewhere")
        retention = Retention(store, tmp_path / "jobs", 30, clock=lambda: now)
        assert await retention.sweep() == 1
        assert (tmp_path / "elsewhere" / "input" / "image.png").is_file()
        stuck.unlink()
        shutil.move(tmp_path / "elsewhere", stuck)
        assert await retention.sweep() == 1
        assert not (tmp_path / "jobs" / "aaaa01").exists()
        assert await retention.sweep() == 0
    finally:
        await store.close()


async def test_zero_days_keeps_everything(tmp_path: Path) -> None:
    now = time.time()
    store = await _store_with(tmp_path, {"aaaa01": 4000}, now)
    try:
        retention = Retention(store, tmp_path / "jobs", 0)
        retention.start()
        assert not retention.running
        assert await retention.sweep() == 0
        assert (tmp_path / "jobs" / "aaaa01" / "input" / "image.png").is_file()
    finally:
        await store.close()
