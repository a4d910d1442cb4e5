"""A finished prompt whose fetch fails: fetched again for a bounded time, never run again.

The fake fails only the fetch (`/history` of the finished prompt, `/view`); every test checks
that the host got exactly one `POST /prompt`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.engine.admin import AdminError
from bot.engine.events import JobFailed
from bot.engine.jobs import Job, JobStatus
from fakes.comfy_faults import Fault
from fakes.comfy_server import FakeComfy
from tests.engine.conftest import World, WorldFactory


def _posts(fake: FakeComfy) -> int:
    return sum(1 for r in fake.requests if (r.method, r.path) == ("POST", "/prompt"))


async def _run_with_faults(
    world: World, history: Sequence[Fault] = (), view: Sequence[Fault] = ()
) -> Job:
    """A job whose prompt finishes, then meets `history` and `view` faults when fetched."""
    fake = world.fakes[0]
    job = await world.submit("alice")
    prompt_id = await fake.wait_for_prompt()
    # The follower has looked once (queued: nothing to read yet) before the prompt runs.
    await fake.wait_until(lambda: any(r.path == "/queue" for r in fake.requests))
    fake.history_faults, fake.view_faults = list(history), list(view)
    fake.hold = False  # a prompt sent again would run too
    fake.release(prompt_id)
    await world.drain()
    return job


@pytest.mark.parametrize(
    ("history", "view"),
    [
        ([Fault.ERROR, Fault.ERROR], []),  # a 500 on /history for a while
        ([Fault.BAD_JSON], []),
        ([], [Fault.ERROR, Fault.ERROR]),  # a 500 on /view
        ([], [Fault.BAD_JSON]),  # a 200 that is no video
        ([Fault.ERROR], [Fault.ERROR]),
    ],
)
async def test_a_brief_fetch_failure_is_fetched_again_not_run_again(
    engine_world: WorldFactory, history: list[Fault], view: list[Fault]
) -> None:
    async with engine_world(comfy={"hold": True}) as world:
        job = await _run_with_faults(world, history, view)
        fake = world.fakes[0]
        assert world.front.delivered_ids() == [job.id]
        assert len(fake.faulted) == len(history) + len(view)  # every fault was met
        assert _posts(fake) == 1


@pytest.mark.parametrize("where", ["history", "view"])
async def test_a_fetch_that_keeps_failing_fails_the_job_and_keeps_its_prompt(
    engine_world: WorldFactory, where: str
) -> None:
    async with engine_world(comfy={"hold": True}) as world:
        world.config.comfy.fetch_retry_seconds = 0.5
        faults = [Fault.ERROR] * 1000
        job = await _run_with_faults(world, **{where: faults})
        fake = world.fakes[0]
        assert _posts(fake) == 1
        assert world.front.delivered_ids() == []
        [failed] = world.front.events_of(job.id, JobFailed)
        prompt_id = fake.accepted[0]
        assert failed.reason.startswith(
            "The video was made, but it could not be fetched from the GPU host gpu-1"
        )
        assert prompt_id in failed.reason
        stored = await world.store.get(job.id)
        assert stored is not None and stored.status is JobStatus.FAILED
        assert (stored.host, stored.prompt_id) == ("gpu-1", prompt_id)  # to fetch it later
        assert world.engine.hosts["gpu-1"].up  # the host was not blamed for a busy moment


async def test_an_admin_fetches_a_made_video_again_without_running_it_again(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(comfy={"hold": True}) as world:
        world.config.comfy.fetch_retry_seconds = 0.3
        job = await _run_with_faults(world, view=[Fault.ERROR] * 1000)
        fake = world.fakes[0]
        assert world.front.delivered_ids() == []
        other = await world.submit("bob")
        fake.view_faults = []  # the host answers again
        await world.drain()
        with pytest.raises(AdminError, match="only a video that was made"):
            await world.engine.refetch(other.id, by="test:root")
        again = await world.engine.refetch(job.id, by="test:root")
        await world.drain()
        stored = await world.store.get(job.id)
    assert again.id == job.id and world.front.delivered_ids() == [other.id, job.id]
    assert stored is not None and stored.status is JobStatus.DONE
    assert _posts(fake) == 2  # one per job: the refetched one was not run again
