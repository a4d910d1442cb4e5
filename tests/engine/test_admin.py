"""Admin actions: pause and resume a host, drain, block users, the hosts' report."""

from __future__ import annotations

import pytest

from bot.engine.admin import AdminError, Refused, host_lines
from bot.engine.events import JobStarted
from bot.engine.jobs import JobStatus
from tests.engine.conftest import WorldFactory

ADMIN = "test:root"


async def test_a_paused_host_finishes_its_job_and_takes_no_new_one_until_resumed(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        first = await world.submit("alice")
        await world.front.wait_for(first.id, JobStarted)
        view = await world.engine.admin.pause("gpu-1", by=ADMIN)
        assert view.paused and view.running == (first.id,)
        second = await world.submit("bob")
        world.release_all()
        await world.front.wait_until(lambda: world.front.delivered_ids() == [first.id])
        waiting = await world.engine.get(second.id)
        assert waiting is not None and waiting.status is JobStatus.QUEUED
        await world.restart()  # the pause is kept
        assert [v.paused for v in await world.engine.admin.hosts()] == [True]
        assert world.fakes[0].accepted == [first.prompt_id]
        await world.engine.admin.resume("gpu-1", by=ADMIN)
        await world.drain()
        assert world.front.delivered_ids() == [first.id, second.id]


async def test_draining_refuses_new_jobs_and_finishes_the_queue(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        queued = [await world.submit("alice"), await world.submit("bob")]
        world.engine.admin.drain(by=ADMIN)
        with pytest.raises(Refused, match="finishing its queue"):
            await world.submit("carol")
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [j.id for j in queued]
        world.engine.admin.undrain(by=ADMIN)
        later = await world.submit("carol")
        await world.drain()
        assert world.front.delivered_ids()[-1] == later.id


async def test_a_blocked_user_is_refused_until_unblocked_also_after_a_restart(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, admins=[ADMIN]) as world:
        await world.engine.admin.block("test:mallory", by=ADMIN)
        with pytest.raises(Refused, match="cannot use this bot"):
            await world.submit("mallory")
        await world.restart()
        with pytest.raises(Refused):
            await world.submit("mallory")
        assert [b.user for b in world.engine.admin.blocked()] == ["test:mallory"]
        with pytest.raises(AdminError, match="is an admin"):
            await world.engine.admin.block(ADMIN, by=ADMIN)
        await world.engine.admin.unblock("test:mallory", by=ADMIN)
        with pytest.raises(AdminError, match="not blocked"):
            await world.engine.admin.unblock("test:mallory", by=ADMIN)
        job = await world.submit("mallory")
        await world.drain()
        assert world.front.delivered_ids() == [job.id]


async def test_the_hosts_report_shows_state_jobs_and_vram(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=2, comfy={"hold": True}) as world:
        world.fakes[0].vram = (6 * 2**30, 24 * 2**30)
        await world.fakes[1].down()
        await world.engine.hosts.wait_until("gpu-2", up=False)
        job = await world.submit("alice")
        await world.front.wait_for(job.id, JobStarted)
        views = {v.name: v for v in await world.engine.admin.hosts()}
        world.release_all()
        await world.drain()
    busy, down = views["gpu-1"], views["gpu-2"]
    assert busy.up and busy.running == (job.id,) and not busy.paused
    assert (busy.vram_free, busy.vram_total) == (6 * 2**30, 24 * 2**30)
    assert "Wan2_1-I2V-14B" in (busy.last_model or "")
    assert not down.up and down.running == () and down.error and down.vram_total is None
    first, second = host_lines(views.values())
    assert first.startswith("gpu-1: up") and job.id in first and "VRAM free 6" in first
    assert second.startswith("gpu-2: down") and "error" in second


async def test_the_front_end_may_vouch_for_an_admin_to_cancel_anyones_job(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        job = await world.submit("alice")
        cancelled = await world.engine.cancel("test", "moderator", job.id, as_admin=True)
        assert cancelled.status is JobStatus.CANCELLED
        await world.drain()
