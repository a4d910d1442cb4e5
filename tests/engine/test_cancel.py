"""Cancelling: own queued and running jobs, someone else's (refused), an admin's (allowed)."""

from __future__ import annotations

import pytest

from bot.engine.events import JobCancelled, JobFailed, JobStarted
from bot.engine.jobs import JobStatus
from bot.errors import UserError
from tests.engine.conftest import WorldFactory


async def test_cancel_own_queued_job(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        running = await world.submit("alice")
        await world.front.wait_for(running.id, JobStarted)
        queued = await world.submit("alice")
        cancelled = await world.engine.cancel("test", "alice", queued.id)
        assert cancelled.status is JobStatus.CANCELLED
        await world.front.wait_for(queued.id, JobCancelled)
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [running.id]
        assert len(world.fakes[0].accepted) == 1  # the cancelled job never reached the host
        stored = await world.store.get(queued.id)
        assert stored is not None and stored.status is JobStatus.CANCELLED


async def test_cancel_own_running_job_interrupts_it_on_the_host(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        job = await world.submit("alice")
        fake = world.fakes[0]
        prompt_id = await fake.wait_for_prompt(1)
        await fake.wait_running(prompt_id)
        # No id: the user's latest active job.
        cancelled = await world.engine.cancel("test", "alice")
        assert cancelled.id == job.id
        assert prompt_id in fake.interrupts
        await world.drain()
        assert world.front.delivered_ids() == []
        assert world.front.events_of(job.id, JobCancelled)
        assert not world.front.events_of(job.id, JobFailed)
        stored = await world.store.get(job.id)
        assert stored is not None and stored.status is JobStatus.CANCELLED


async def test_cancel_job_still_pending_on_the_host_deletes_it(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        world.config.comfy.hosts[0].max_concurrent = 2
        first = await world.submit("alice")
        fake = world.fakes[0]
        # Only then bob's: two jobs started together may reach the host in either order.
        await fake.wait_running(await fake.wait_for_prompt(1))
        second = await world.submit("bob")
        pending = await fake.wait_for_prompt(2)
        assert pending == second.prompt_id  # committed before it was sent
        # Whether or not the engine has heard the host accept it, it gets deleted.
        await world.engine.cancel("test", "bob", second.id)
        await fake.wait_until(lambda: pending in fake.deleted)
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [first.id]


async def test_others_cannot_cancel_but_admins_can(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, admins=["test:root"]) as world:
        job = await world.submit("alice")
        await world.front.wait_for(job.id, JobStarted)
        with pytest.raises(UserError, match="someone else's"):
            await world.engine.cancel("test", "mallory", job.id)
        with pytest.raises(UserError, match="no job waiting or running"):
            await world.engine.cancel("test", "mallory")
        with pytest.raises(UserError, match="There is no job nope"):
            await world.engine.cancel("test", "alice", "nope")
        assert (await world.engine.cancel("test", "root", job.id)).status is JobStatus.CANCELLED
        await world.drain()
        with pytest.raises(UserError, match="already cancelled"):
            await world.engine.cancel("test", "alice", job.id)
        assert world.front.delivered_ids() == []
