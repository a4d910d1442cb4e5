"""Fair order between users, per-user and global caps, admins, throttled progress."""

from __future__ import annotations

import pytest

from bot.engine.events import JobProgress, JobStarted, PositionChanged, Throttle
from bot.engine.jobs import JobStatus
from bot.errors import LimitError, UserError
from tests.engine.conftest import WorldFactory


async def test_second_user_is_served_before_the_first_users_second_job(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_queued_per_user=20) as world:
        a_jobs = [await world.submit("alice") for _ in range(10)]
        b_job = await world.submit("bob")
        fake = world.fakes[0]
        fake.hold = False
        fake.release()
        await world.drain()
        started = world.front.order_of(JobStarted)
        assert started.index(b_job.id) <= started.index(a_jobs[1].id)
        assert sorted(world.front.delivered_ids()) == sorted([j.id for j in [*a_jobs, b_job]])


async def test_status_positions_follow_the_fair_order(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_queued_per_user=20) as world:
        a_jobs = [await world.submit("alice") for _ in range(4)]
        await world.front.wait_for(a_jobs[0].id, JobStarted)
        b_job = await world.submit("bob")
        mine = await world.engine.status("test", "alice")
        assert [v.id for v in mine.jobs] == [j.id for j in a_jobs]
        assert mine.jobs[0].status is JobStatus.RUNNING and mine.jobs[0].host == "gpu-1"
        # bob's single job comes right after alice's running one.
        assert [v.position for v in mine.jobs[1:]] == [2, 3, 4]
        theirs = await world.engine.status("test", "bob")
        assert theirs.jobs[0].position == 1
        assert theirs.jobs[0].eta_seconds is not None and theirs.jobs[0].eta_seconds > 0
        assert (mine.queued, mine.running) == (4, 1)
        world.release_all()
        await world.drain()
        # Someone waiting was told when their place moved up.
        assert world.front.events_of(a_jobs[3].id, PositionChanged)
        assert (await world.engine.status("test", "alice")).jobs == []
        assert b_job.id in world.front.delivered_ids()


async def test_caps_and_admin_exemption(engine_world: WorldFactory) -> None:
    async with engine_world(
        hosts=1,
        comfy={"hold": True},
        max_queued_per_user=2,
        max_total_queued=3,
        admins=["test:root"],
    ) as world:
        first = await world.submit("alice")
        await world.front.wait_for(first.id, JobStarted)
        await world.submit("alice")
        await world.submit("alice")
        with pytest.raises(LimitError, match=r"already have 2 job\(s\) waiting.*\(2\)"):
            await world.submit("alice")
        await world.submit("bob")
        with pytest.raises(LimitError, match=r"queue is full: 3 jobs.*limit 3.*you have 0"):
            await world.submit("carol")
        admin_jobs = [await world.submit("root") for _ in range(3)]
        world.release_all()
        await world.drain()
        assert len(world.front.delivered_ids()) == 7
        assert {j.id for j in admin_jobs} <= set(world.front.delivered_ids())


async def test_bad_input_is_a_user_error_and_leaves_nothing(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        with pytest.raises(UserError, match="steps"):
            await world.submit("alice", steps=10_000)
        assert not any(world.config.storage.jobs.iterdir())
        assert (await world.engine.status("test", "alice")).jobs == []


async def test_progress_updates_are_throttled(engine_world: WorldFactory) -> None:
    # An interval no job reaches, so the count does not depend on how loaded the machine is.
    async with engine_world(
        hosts=1, comfy={"steps": 300, "hold": True}, progress_interval=3600.0
    ) as world:
        job = await world.submit("alice")
        await world.front.wait_for(job.id, JobProgress)  # held after step 1 (see test_flow)
        world.release_all()
        await world.drain()
        updates = world.front.events_of(job.id, JobProgress)
        assert [(u.step, u.steps) for u in updates] == [(1, 300)]  # the first, not 300
        assert world.front.delivered_ids() == [job.id]


def test_throttle_drops_repeats_and_keeps_state_changes() -> None:
    now = [0.0]
    throttle = Throttle(1.0, clock=lambda: now[0])
    assert throttle.allow(JobProgress(10.0, 1, 10))
    assert not throttle.allow(JobProgress(20.0, 2, 10))  # too soon
    assert throttle.allow(JobStarted("gpu"))  # state changes always go
    now[0] = 5.0
    assert throttle.allow(JobProgress(20.0, 2, 10))
    now[0] = 10.0
    assert not throttle.allow(JobProgress(20.0, 2, 10))  # identical to the last one
