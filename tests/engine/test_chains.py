"""Long videos as chains of SVI clips through the real engine and the fake ComfyUI: joined in
order at the length asked for, one prompt per shot, resumed after a restart without making a
clip twice, only on hosts with the SVI LoRAs, every clip's GPU time counted."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import InputError
from bot.media.video import probe
from fakes.comfy_schemas import fast_schema, svi_schema
from fakes.media import clip_numbers
from fakes.media import probe as probe_bytes
from tests.engine.conftest import WorldFactory
from workflows.svi import OVERLAP_FRAMES

WITH_FAST, WITH_SVI = fast_schema(), svi_schema()
CLIP = 21  # frames per clip: each later clip adds CLIP - OVERLAP_FRAMES
STEP = CLIP - OVERLAP_FRAMES
LONG = {"frames": CLIP, "fps": 16.0, "length": 50 / 16}  # 50 frames: 3 clips


def texts_of(prompt: dict[str, Any]) -> list[str]:
    return [
        n["inputs"]["positive_prompt"]
        for n in prompt.values()
        if n["class_type"] == "WanVideoTextEncode"
    ]


def is_clip(prompt: dict[str, Any]) -> bool:
    return any(n["class_type"] == "WanVideoSVIProEmbeds" for n in prompt.values())


async def test_a_three_clip_chain_is_joined_in_order_at_the_length_asked_for(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[WITH_SVI]) as world:
        job = await world.submit("alice", **LONG)
        await world.drain()
        done = await world.store.get(job.id)
    assert done is not None and done.output is not None and len(done.clips) == 3
    numbers = clip_numbers(done.output)
    assert abs(len(numbers) - 50) <= 1
    assert numbers == ([0] * CLIP + [1] * STEP + [2] * STEP)[: len(numbers)]
    prompts = world.fakes[0].prompts
    assert len(prompts) == 3 and all(is_clip(p) for p in prompts)
    seeds = [c.seed for c in done.clips]
    assert len(set(seeds)) == 3  # every clip has noise of its own
    record = done.output.with_suffix(".json").read_text(encoding="utf-8")
    assert all(c.prompt_id in record for c in done.clips)  # the lineage names every clip
    assert (await probe(done.output)).frames == len(numbers)


async def test_shots_get_their_own_prompts_in_order(engine_world: WorldFactory) -> None:
    async with engine_world(schemas=[WITH_SVI]) as world:
        job = await world.submit(
            "alice", prompt="a cat wakes up | the cat stretches | it walks away", frames=CLIP
        )
        await world.drain()
        done = await world.store.get(job.id)
    assert done is not None and done.status.value == "done"
    shown = [texts_of(p)[0] for p in world.fakes[0].prompts]
    assert shown == ["a cat wakes up", "the cat stretches", "it walks away"]


async def test_a_restart_after_clip_two_resumes_at_clip_three(engine_world: WorldFactory) -> None:
    async with engine_world(schemas=[WITH_SVI], comfy={"hold": True}) as world:
        fake = world.fakes[0]
        job = await world.submit("alice", **LONG)
        for count in (1, 2):
            fake.release(await fake.wait_for_prompt(count))
        await fake.wait_for_prompt(3)  # sent only once clip 2 is stored
        await world.restart()
        world.release_all()
        await world.drain()
        done = await world.store.get(job.id)
    assert done is not None and done.output is not None
    assert len(fake.accepted) == 3  # no clip was made twice
    assert clip_numbers(done.output)[-1] == 2


async def test_only_hosts_with_the_svi_loras_get_chains(engine_world: WorldFactory) -> None:
    async with engine_world(schemas=[WITH_FAST, WITH_SVI]) as world:
        job = await world.submit("alice", **LONG)
        other = await world.submit("bob", quality="fast")
        await world.drain()
        done = await world.store.get(job.id)
    assert done is not None and {c.host for c in done.clips} == {"gpu-2"}
    assert not any(is_clip(p) for p in world.fakes[0].prompts)
    assert other.id in world.front.delivered_ids()


async def test_without_any_host_with_the_loras_a_long_video_is_refused(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[WITH_FAST]) as world:
        with pytest.raises(InputError, match="long videos"):
            await world.submit("alice", **LONG)
        with pytest.raises(InputError, match="long videos"):
            await world.submit("alice", prompt="one | two", frames=CLIP)
    assert world.fakes[0].prompts == []


async def test_quotas_count_every_clips_gpu_time(engine_world: WorldFactory) -> None:
    async with engine_world(schemas=[WITH_SVI], comfy={"job_seconds": 0.3}) as world:
        job = await world.submit("alice", **LONG)
        await world.drain()
        done = await world.store.get(job.id)
        view = await world.engine.quotas.view("test", "alice")
    assert done is not None and done.gpu_seconds is not None
    assert done.gpu_seconds == pytest.approx(sum(c.gpu_seconds for c in done.clips), abs=0.01)
    assert min(c.gpu_seconds for c in done.clips) >= 0.25
    assert view.gpu_used == pytest.approx(done.gpu_seconds, abs=0.01)


async def test_extend_continues_a_long_video_with_svi_where_a_host_can(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[WITH_SVI]) as world:
        job = await world.submit("alice", prompt="a cat wakes up | it stretches", frames=CLIP)
        await world.drain()
        more = await world.engine.extend(job.id, platform="test", user_id="alice")
        await world.drain()
        first, added = await world.store.get(job.id), await world.store.get(more.id)
    assert first is not None and added is not None and added.output is not None
    third = world.fakes[0].prompts[2]
    assert is_clip(third) and texts_of(third) == ["it stretches"]  # the story goes on
    loaded = [n["inputs"]["latent"] for n in third.values() if n["class_type"] == "LoadLatent"]
    assert len(loaded) == 1  # the long video's last latent, uploaded for it
    assert added.clips[0].index == 2 and added.clips[0].seed != first.clips[-1].seed
    numbers = clip_numbers(added.output)  # the original and its third clip, joined
    assert numbers == [0] * CLIP + [1] * STEP + [2] * STEP


async def test_extend_of_a_fast_clip_continues_its_last_frames_with_svi(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[WITH_SVI], comfy={"scale": 1.0}) as world:
        job = await world.submit("alice", quality="fast", frames=CLIP)
        await world.drain()
        more = await world.engine.extend(job.id, platform="test", user_id="alice")
        await world.drain()
        first, added = await world.store.get(job.id), await world.store.get(more.id)
    assert first is not None and first.output is not None
    assert added is not None and added.output is not None
    _, second = world.fakes[0].prompts
    assert is_clip(second)
    (tail,) = [n for n in second.values() if n["class_type"] == "VHS_LoadVideo"]
    uploaded = world.fakes[0].uploads[tail["inputs"]["video"]]
    assert probe_bytes(uploaded).frames == OVERLAP_FRAMES  # the clip's last frames
    before = (await probe(first.output)).frames
    assert (await probe(added.output)).frames == before + CLIP - OVERLAP_FRAMES


async def test_extend_of_a_standard_clip_starts_from_its_last_frame(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[WITH_SVI], comfy={"scale": 1.0}) as world:
        job = await world.submit("alice")
        await world.drain()
        await world.engine.extend(job.id, platform="test", user_id="alice")
        await world.drain()
    assert len(world.fakes[0].prompts) == 2
    assert not any(is_clip(p) for p in world.fakes[0].prompts)


async def test_cancel_stops_the_chain_between_clips(engine_world: WorldFactory) -> None:
    async with engine_world(schemas=[WITH_SVI], comfy={"hold": True}) as world:
        fake = world.fakes[0]
        job = await world.submit("alice", **LONG)
        fake.release(await fake.wait_for_prompt(1))
        await fake.wait_for_prompt(2)
        await world.engine.cancel("test", "alice", job.id)
        world.release_all()
        await world.drain()
        done = await world.store.get(job.id)
    assert done is not None and done.status.value == "cancelled"
    assert len(fake.accepted) == 2 and fake.interrupts  # clip 2 was stopped on the host
    assert world.front.delivered_ids() == []
