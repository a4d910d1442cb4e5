"""Exactly-once submission: the prompt id is committed before the host gets the prompt, so an
engine that stops at any point runs each job once on the GPU."""

from __future__ import annotations

import asyncio

from bot.engine.jobs import JobStatus
from fakes.comfy_server import FakeComfy
from tests.engine.conftest import WorldFactory


def _asked(fake: FakeComfy, method: str, path: str) -> bool:
    return any(r.method == method and r.path == path for r in fake.requests)


async def test_engine_stopped_while_the_host_takes_the_prompt_runs_it_once(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        fake = world.fakes[0]
        fake.prompt_gate = asyncio.Event()  # the host is slow to answer POST /prompt
        job = await world.submit("alice")
        await fake.wait_until(lambda: _asked(fake, "POST", "/prompt"))
        await world.stop()  # the engine never hears the answer...
        fake.prompt_gate.set()
        prompt_id = await fake.wait_for_prompt(1)  # ...but the host took the prompt
        await world.start()
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert fake.accepted == [prompt_id]  # followed, not run a second time
        stored = await world.store.get(job.id)
        assert stored is not None
        assert (stored.status, stored.prompt_id, stored.attempts) == (JobStatus.DONE, prompt_id, 1)


async def test_engine_stopped_before_sending_the_prompt_sends_it_once(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        fake = world.fakes[0]
        fake.refuse_ws = True  # sending waits for the websocket, after the id was committed
        job = await world.submit("alice")
        await fake.wait_until(lambda: _asked(fake, "GET", "/ws"))
        await world.stop()
        assert job.prompt_id is not None and fake.accepted == []
        fake.refuse_ws = False
        await world.start()
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert len(fake.accepted) == 1
        stored = await world.store.get(job.id)
        assert stored is not None and stored.prompt_id == fake.accepted[0]
        assert stored.attempts == 1  # the host never had it: no attempt was used up


async def test_a_job_cancelled_while_being_sent_is_stopped_on_the_host(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        fake = world.fakes[0]
        fake.refuse_ws = True
        job = await world.submit("alice")
        await fake.wait_until(lambda: _asked(fake, "GET", "/ws"))
        # Too early to stop it on the host: it is stopped as soon as the host has it.
        await world.engine.cancel("test", "alice", job.id)
        fake.refuse_ws = False
        await fake.wait_until(lambda: job.prompt_id in fake.interrupts + fake.deleted)
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == []
        assert fake.accepted == [job.prompt_id]
