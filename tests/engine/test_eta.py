"""ETAs from seconds per unit of work (frames x steps x size), learned per host and mode."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.engine.eta import Estimator, work
from bot.engine.store import JobStore, migrations
from bot.request import Mode
from tests.engine.conftest import WorldFactory
from tests.factories import make_params, make_request


def test_steps_and_frame_size_count_in_an_estimate() -> None:
    estimator = Estimator(default_spf=4.0)
    slow = make_request(params=make_params(steps=30))
    estimator.update("gpu-1", Mode.I2V, 600.0 / work(slow))  # a 30-step job took 10 min
    fast = make_request(params=make_params(steps=4))
    big = make_request(params=make_params(width=1280, height=720))
    assert estimator.cost(Mode.I2V, work(slow), "gpu-1") == pytest.approx(600.0)
    assert estimator.cost(Mode.I2V, work(fast), "gpu-1") == pytest.approx(600.0 * 4 / 30)
    assert estimator.cost(Mode.I2V, work(big), "gpu-1") == pytest.approx(
        600.0 * 1280 * 720 / (832 * 480)
    )


def test_the_default_is_per_frame_of_a_30_step_832x480_job() -> None:
    estimator = Estimator(default_spf=4.0)
    usual = make_request(params=make_params(frames=81, steps=30))
    assert estimator.cost(Mode.I2V, work(usual)) == pytest.approx(81 * 4.0)


async def test_per_frame_speeds_from_an_older_database_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as db:
        for number, _name, sql in migrations()[:2]:
            db.executescript(sql)
            db.execute(f"PRAGMA user_version = {number}")
        db.execute(
            "INSERT INTO speeds (host, mode, seconds_per_frame, samples, updated_at) "
            "VALUES ('gpu', 'i2v', 4.0, 3, 0)"
        )
    store = await JobStore.open(path)
    try:
        assert await store.speeds() == {}
        await store.record_speed("gpu", Mode.I2V, 0.1)
        assert await store.speeds() == {("gpu", Mode.I2V): 0.1}
    finally:
        await store.close()


async def test_a_finished_job_teaches_the_speed_per_unit(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"job_seconds": 0.2}) as world:
        job = await world.submit("alice", steps=4)
        await world.drain()
        speeds = await world.store.speeds()
        done = await world.store.get(job.id)
        assert done is not None and done.gpu_seconds is not None
        assert speeds[("gpu-1", Mode.I2V)] == pytest.approx(
            done.gpu_seconds / work(job.request), rel=0.01
        )


def test_a_running_job_without_progress_shows_the_learned_estimate() -> None:
    # Loading models took longer than the whole job is expected to: still no "ETA ~0 s".
    assert Estimator.remaining(cost=300.0, elapsed=900.0, percent=0.0) == pytest.approx(300.0)
    assert Estimator.remaining(cost=300.0, elapsed=10.0, percent=0.0) == pytest.approx(300.0)
    # Once it reports progress, its own pace counts.
    assert Estimator.remaining(cost=300.0, elapsed=100.0, percent=50.0) == pytest.approx(100.0)
    assert Estimator.remaining(cost=300.0, elapsed=100.0, percent=100.0) == 0.0
