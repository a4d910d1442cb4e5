"""Previews of a running job: sent to its front end, at most one per interval, never stored,
never in the way of the status or the delivery; a host with previews off is asked for none."""

from __future__ import annotations

import asyncio

from bot.engine.events import JobPreview, JobProgress
from fakes.comfy_previews import preview_jpeg
from tests.engine.conftest import WorldFactory


async def test_a_running_job_sends_changing_previews(engine_world: WorldFactory) -> None:
    async with engine_world(comfy={"steps": 4}, preview_interval=0.0) as world:
        job = await world.submit("alice")
        await world.drain()
        stored = await world.store.get(job.id)
    previews = world.front.events_of(job.id, JobPreview)
    images = [p.image for p in previews]
    assert images and images[-1] == preview_jpeg(4) and len(set(images)) == len(images)
    extra = world.fakes[0].history[stored.prompt_id]["prompt"][3]  # type: ignore[union-attr]
    assert extra["preview_method"] == "latent2rgb"


async def test_previews_are_throttled_per_job(engine_world: WorldFactory) -> None:
    async with engine_world(comfy={"steps": 6}, preview_interval=3600.0) as world:
        jobs = [await world.submit("alice"), await world.submit("bob")]
        await world.drain()
    assert [len(world.front.events_of(j.id, JobPreview)) for j in jobs] == [1, 1]


async def test_a_host_with_previews_off_is_asked_for_none(engine_world: WorldFactory) -> None:
    async with engine_world(preview_interval=0.0) as world:
        world.config.comfy.hosts[0].preview = "none"
        job = await world.submit("alice")
        await world.drain()
        stored = await world.store.get(job.id)
    assert stored is not None and world.front.events_of(job.id, JobPreview) == []
    assert "preview_method" not in world.fakes[0].history[stored.prompt_id]["prompt"][3]
    assert world.fakes[0].previews_sent == 0


async def test_a_slow_preview_never_holds_up_progress_or_delivery(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(comfy={"steps": 4}, preview_interval=0.0) as world:
        world.front.preview_gate = asyncio.Event()  # the platform makes previews wait
        job = await world.submit("alice")
        await world.front.wait_until(lambda: job.id in world.front.delivered_ids())
        progress = world.front.events_of(job.id, JobProgress)
        shown_before = world.front.events_of(job.id, JobPreview)
        world.front.preview_gate.set()
        await world.drain()
    assert progress and progress[-1].percent == 100.0 and shown_before == []
    # Waiting previews were replaced by newer ones: at most the one shown and one newest.
    assert 1 <= len(world.front.events_of(job.id, JobPreview)) <= 2
