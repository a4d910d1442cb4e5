"""Batches: N jobs with consecutive seeds in one group, accepted whole or not at all, and
served fairly among users job by job."""

from __future__ import annotations

import pytest

from bot.engine.events import JobStarted
from bot.errors import LimitError, ParameterError
from bot.request import Ask, InputFiles, Mode, Order, Sender
from tests.engine.conftest import FAST, World, WorldFactory


def order(world: World, user: str, **overrides: object) -> Order:
    inputs = InputFiles(image=world.inputs["image"])
    ask = Ask(Mode.I2V, "a cat", inputs, {**FAST, **overrides})
    return Order(ask, Sender("test", user, f"chat-{user}"), {"chat": user})


async def test_a_batch_is_n_jobs_with_consecutive_seeds_in_one_group(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        jobs = await world.engine.submit_all([order(world, "alice", batch=3, seed=100)])
        await world.drain()
    assert [j.request.params.seed for j in jobs] == [100, 101, 102]
    places = [(j.batch.index, j.batch.size) for j in jobs if j.batch is not None]
    assert places == [(0, 3), (1, 3), (2, 3)]
    assert len({j.batch.group for j in jobs if j.batch is not None}) == 1
    assert all("batch" not in j.reply_target for j in jobs)
    assert sorted(world.front.delivered_ids()) == sorted(j.id for j in jobs)


async def test_a_batch_that_does_not_fit_is_refused_whole(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_queued_per_user=3) as world:
        running = await world.submit("alice")
        await world.front.wait_for(running.id, JobStarted)
        await world.submit("alice")
        with pytest.raises(LimitError, match=r"These 3 jobs do not fit.*so 2 more fit"):
            await world.engine.submit_all([order(world, "alice", batch=3)])
        with pytest.raises(ParameterError, match="batch 5 is out of range"):
            await world.engine.submit_all([order(world, "alice", batch=5)])
        status = await world.engine.status("test", "alice")
        assert len(status.jobs) == 2  # nothing of the refused batch was queued
        world.release_all()
        await world.drain()


async def test_batch_jobs_count_one_by_one_for_fairness(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_queued_per_user=10) as world:
        first = await world.submit("alice")
        await world.front.wait_for(first.id, JobStarted)
        batch = await world.engine.submit_all([order(world, "alice", batch=3)])
        bob = await world.submit("bob")
        world.release_all()
        await world.drain()
    started = world.front.order_of(JobStarted)
    assert started == [first.id, bob.id, *[j.id for j in batch]]
