"""Limits that hold when requests arrive together: quota and caps held from admission on,
batches queued whole or not at all, refusals before any file is needed, one admin decision,
and acceptance that stays consistent when its task is cancelled at any await."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.engine.admin import Refused
from bot.engine.events import JobStarted
from bot.engine.jobs import JobStatus
from bot.engine.quotas import QuotaError
from bot.errors import InputError, LimitError, UserError
from bot.request import Ask, InputFiles, Mode, Order, Sender
from tests.engine.conftest import FAST, World, WorldFactory


def order(world: World, user: str, image: Any = None, **overrides: object) -> Order:
    inputs = InputFiles(image=image or world.inputs["image"])
    ask = Ask(Mode.I2V, "a cat", inputs, {**FAST, **overrides})
    return Order(ask, Sender("test", user, f"chat-{user}"), {"chat": user})


class Refusals:
    """An observer that keeps every refusal the engine reports (what /metrics counts)."""

    def __init__(self) -> None:
        self.errors: list[Exception] = []

    def on_event(self, job: Any, event: Any) -> None: ...

    def on_delivery_failed(self, job: Any) -> None: ...

    def on_refused(self, error: Exception) -> None:
        self.errors.append(error)


async def stored_queued(world: World, user: str = "alice") -> set[str]:
    jobs = await world.store.active()
    return {j.id for j in jobs if j.status is JobStatus.QUEUED and j.user_id == user}


async def test_a_burst_from_one_user_gets_one_job_and_refusals_that_say_when(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        world.config.quotas.jobs_per_day = 2
        world.config.quotas.cooldown_seconds = 600
        results = await asyncio.gather(
            *(world.submit("alice") for _ in range(6)), return_exceptions=True
        )
        accepted = [r for r in results if not isinstance(r, BaseException)]
        refused = [r for r in results if isinstance(r, BaseException)]
        view = await world.engine.quotas.view("test", "alice")
        world.release_all()
        await world.drain()
    assert len(accepted) == 1 and len(refused) == 5
    assert all(isinstance(e, QuotaError) and "Please wait 10" in str(e) for e in refused), refused
    assert view.jobs_used == 1 and len(world.fakes[0].prompts) == 1


async def test_batches_that_arrive_together_are_queued_whole_or_not_at_all(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_queued_per_user=5) as world:
        results = await asyncio.gather(
            *(world.engine.submit_all([order(world, "alice", batch=4)]) for _ in range(3)),
            return_exceptions=True,
        )
        queued = await stored_queued(world)
        world.release_all()
        await world.drain()
    accepted = [r for r in results if isinstance(r, list)]
    refused = [r for r in results if isinstance(r, LimitError)]
    assert len(accepted) == 1 and len(accepted[0]) == 4 and len(refused) == 2
    assert all("These 4 jobs do not fit" in str(e) for e in refused)
    assert queued == {j.id for j in accepted[0]}
    assert len(world.fakes[0].prompts) == 4


async def test_a_batch_with_one_unusable_file_queues_nothing_and_leaves_nothing(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, max_queued_per_user=3) as world:
        broken = world.tmp / "chat" / "notes.png"
        broken.write_text("not an image")
        orders = [order(world, "bob"), order(world, "bob", broken), order(world, "bob")]
        with pytest.raises(InputError):
            await world.engine.submit_all(orders)
        await world.drain()
        left = (
            list(world.config.storage.jobs.glob("*")) if world.config.storage.jobs.exists() else []
        )
        assert await world.store.active() == [] and left == []
        assert world.front.events == []
        # The hold was given back: three jobs fit again.
        assert len(await world.engine.submit_all([order(world, "bob", batch=3)])) == 3
        await world.drain()


async def test_refusals_that_need_no_file_come_before_any_file_is_read(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, admins=["test:root"]) as world:
        missing = world.tmp / "never-downloaded.png"  # admission must not look at it
        world.engine.admin.drain("test:root")
        with pytest.raises(Refused, match="finishing its queue"):
            await world.engine.submit(order(world, "alice", missing))
        world.engine.admin.undrain("test:root")
        await world.engine.admin.block("test:alice", "test:root")
        with pytest.raises(Refused, match="cannot use this bot"):
            await world.engine.submit(order(world, "alice", missing))
        world.config.quotas.jobs_per_day = 1
        await world.submit("carol")
        with pytest.raises(QuotaError):
            await world.engine.submit(order(world, "carol", missing))
        world.config.quotas.jobs_per_day = 0
        with pytest.raises(LimitError, match="These 20 jobs"):
            await world.engine.submit_all([order(world, "dave", missing)] * 20)
        await world.drain()


async def test_an_admin_decision_from_the_front_end_is_honoured_everywhere(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, max_queued_per_user=1) as world:
        world.config.quotas.jobs_per_day = 1
        job = await world.submit("alice")
        await world.drain()
        moderator = Sender("test", "mod", "chat-mod", admin=True)
        with pytest.raises(UserError, match="someone else's"):
            await world.engine.reroll(job.id, platform="test", user_id="mod")
        again = await world.engine.reroll(job.id, platform="test", user_id="mod", as_admin=True)
        # No caps and no quota for the request of an admin (decided by role, say).
        inputs = InputFiles(image=world.inputs["image"])
        ask = Ask(Mode.I2V, "a cat", inputs, {**FAST, "batch": 3})
        many = await world.engine.submit_all([Order(ask, moderator, {"chat": "mod"})])
        view = await world.engine.quotas.view("test", "mod", exempt=True)
        await world.drain()
    assert again.user == "test:mod" and len(many) == 3 and view.exempt


async def test_refused_rerolls_and_extensions_are_counted(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        refusals = Refusals()
        world.engine.observe(refusals)
        job = await world.submit("alice")
        await world.drain()
        world.config.quotas.jobs_per_day = 1
        with pytest.raises(QuotaError):
            await world.engine.reroll(job.id, platform="test", user_id="alice")
        with pytest.raises(QuotaError):
            await world.engine.extend(job.id, platform="test", user_id="alice")
        world.config.quotas.jobs_per_day = 0
        world.engine.admin.drain("test:root")
        with pytest.raises(Refused):
            await world.engine.reroll(job.id, platform="test", user_id="alice")
    assert [type(e) for e in refusals.errors] == [QuotaError, QuotaError, Refused]


async def test_a_submit_cancelled_at_any_await_leaves_store_and_queue_in_agreement(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_queued_per_user=50) as world:
        blocker = await world.submit("zed")
        await world.front.wait_for(blocker.id, JobStarted)
        steps = 0
        while True:
            task = asyncio.create_task(world.engine.submit_all([order(world, "alice", batch=2)]))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            outcome = (await asyncio.gather(task, return_exceptions=True))[0]
            status = await world.engine.status("test", "alice")
            live = {v.id for v in status.jobs}
            assert live == await stored_queued(world), (
                steps,
                [(j.id, j.status, j.user_id) for j in await world.store.active()],
            )
            folders = {p.name for p in world.config.storage.jobs.glob("*")} - {blocker.id}
            assert folders == live, f"cancelled after {steps} steps"
            if not isinstance(outcome, asyncio.CancelledError):
                break  # the submit finished before the cancel reached it
            steps += 1
        # Each cancel returned the hold: everything queued still fits the caps.
        assert len(live) <= 50
        await world.restart()
        assert {v.id for v in (await world.engine.status("test", "alice")).jobs} == live
        world.release_all()
        await world.drain()
    assert steps > 5  # the cancel really landed at many points
