"""Quotas: jobs and GPU time per rolling 24 hours, a cooldown; kept across restarts; admins
exempt; a refusal says when to try again."""

from __future__ import annotations

import time

import pytest

from bot.engine.quotas import DAY, QuotaError, quota_text
from bot.request import Ask, InputFiles, Mode, Order, Sender
from tests.engine.conftest import FAST, World, WorldFactory


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def tick(world: World, clock: Clock) -> None:
    world.engine.quotas.clock = clock


async def test_jobs_per_day_frees_up_as_jobs_turn_a_day_old(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, admins=["test:root"]) as world:
        world.config.quotas.jobs_per_day = 2
        clock = Clock()
        tick(world, clock)
        await world.submit("alice")
        await world.submit("alice")
        with pytest.raises(QuotaError, match=r"used 2 of your 2 jobs.*in 1 day|in 24 h"):
            await world.submit("alice")
        await world.submit("root")  # admins are exempt
        await world.drain()
        await world.restart()  # counted in the store
        tick(world, clock)
        view = await world.engine.quotas.view("test", "alice")
        assert (view.jobs_used, view.jobs_limit) == (2, 2)
        assert "0 left" in quota_text(view)
        with pytest.raises(QuotaError):
            await world.submit("alice")
        clock.now += DAY + 1
        await world.submit("alice")
        await world.drain()


async def test_gpu_time_and_cooldown(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        world.config.quotas.gpu_seconds_per_day = 0.001
        world.config.quotas.cooldown_seconds = 60
        clock = Clock()
        tick(world, clock)
        first = await world.submit("alice")
        with pytest.raises(QuotaError, match="wait 1 min"):
            await world.submit("alice")
        await world.drain()
        assert (first.gpu_seconds or 0) > 0.001
        clock.now += 61
        with pytest.raises(QuotaError, match="GPU time"):
            await world.submit("alice")
        view = await world.engine.quotas.view("test", "alice")
        assert "GPU time" in quota_text(view) and view.gpu_used > 0


async def test_a_batch_over_the_quota_is_refused_whole(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, max_queued_per_user=10) as world:
        world.config.quotas.jobs_per_day = 3
        tick(world, Clock())
        await world.submit("alice")
        ask = Ask(Mode.I2V, "a cat", InputFiles(image=world.inputs["image"]), {**FAST, "batch": 3})
        with pytest.raises(QuotaError, match="2 more fit now"):
            await world.engine.submit_all([Order(ask, Sender("test", "alice", "c"), {})])
        await world.drain()
        view = await world.engine.quotas.view("test", "alice")
    assert view.jobs_used == 1
