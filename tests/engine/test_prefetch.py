"""Inputs uploaded ahead: while a host runs a job, the next job's files go to it, so the
hand-over is one POST /prompt; a guess that turns out wrong costs nothing but the upload."""

from __future__ import annotations

from bot.engine.jobs import Job
from fakes.comfy_server import FakeComfy
from tests.engine.conftest import WorldFactory


def _uploads(fake: FakeComfy) -> int:
    """Files the host has stored (a request is logged before the file is stored)."""
    return len(fake.uploads)


def _upload_requests(fake: FakeComfy) -> int:
    return sum(r.method == "POST" and r.path == "/upload/image" for r in fake.requests)


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def _prompt_of(fake: FakeComfy, job: Job) -> dict[str, object]:
    assert job.prompt_id is not None
    return fake.prompts[fake.accepted.index(job.prompt_id)]


async def test_the_next_jobs_inputs_are_on_the_host_before_it_is_free(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        fake = world.fakes[0]
        first = await world.submit("alice")
        await fake.wait_for_prompt(1)
        assert _uploads(fake) == 1
        before = set(fake.uploads)
        second = await world.submit("bob")
        await fake.wait_until(lambda: _uploads(fake) == 2)
        assert len(fake.accepted) == 1  # uploaded ahead; nothing sent to the host early
        ahead = set(fake.uploads) - before
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [first.id, second.id]
        assert _upload_requests(fake) == 2  # no second upload of its photo
        assert ahead and ahead <= set(_strings(_prompt_of(fake, second)))


async def test_a_fairer_job_takes_the_place_of_the_guess(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_running_per_user=9) as world:
        fake = world.fakes[0]
        first = await world.submit("alice")
        await fake.wait_for_prompt(1)
        again = await world.submit("alice")
        await fake.wait_until(lambda: _uploads(fake) == 2)
        bob = await world.submit("bob")  # never served: he goes before alice's second job
        await fake.wait_until(lambda: _uploads(fake) >= 3)
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [first.id, bob.id, again.id]
        for job in (first, bob, again):
            names = set(_strings(_prompt_of(fake, job)))
            assert names & set(fake.uploads), f"job {job.id} names no uploaded file"


async def test_a_cancelled_guess_is_never_sent(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        fake = world.fakes[0]
        first = await world.submit("alice")
        await fake.wait_for_prompt(1)
        second = await world.submit("bob")
        await fake.wait_until(lambda: _uploads(fake) == 2)
        await world.engine.cancel("test", "bob", second.id)
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [first.id]
        assert fake.accepted == [first.prompt_id]


async def test_busy_hosts_are_sent_different_jobs(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=2, comfy={"hold": True}, max_running_per_user=9) as world:
        running = [await world.submit(f"user{n}") for n in range(2)]
        for fake in world.fakes:
            await fake.wait_for_prompt(1)
        queued = [await world.submit(f"user{n}") for n in range(2, 4)]
        for fake in world.fakes:
            await fake.wait_until(lambda fake=fake: _uploads(fake) == 2)  # type: ignore[misc]
        # The host whose job began first is counted on to be free first: it is, here.
        first, second = world.fakes
        first.release()
        await first.wait_for_prompt(2)
        second.release()
        await second.wait_for_prompt(2)
        world.release_all()
        await world.drain()
        assert sorted(world.front.delivered_ids()) == sorted(j.id for j in running + queued)
        assert sum(_upload_requests(fake) for fake in world.fakes) == 4  # each job uploaded once
