"""Hosts without ComfyUI-WanVideoWrapper: image to video, talking and animating on ComfyUI's
own nodes, end to end through the engine and the fake ComfyUI (which serves only core classes);
what a host lacks the files for, and long videos, go to a host that can, or are refused where
none can."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import InputError
from bot.request import Mode
from fakes.comfy_schemas import native_i2v_schema, native_schema
from tests.engine.conftest import WorldFactory
from workflows.schema import bundled_object_info

NATIVE = native_schema()


def classes(prompt: dict[str, Any]) -> set[str]:
    return {node["class_type"] for node in prompt.values()}


async def test_a_host_without_the_wrapper_makes_image_to_video_on_core_nodes(
    engine_world: WorldFactory,
) -> None:
    assert "WanVideoSampler" not in NATIVE  # the fake serves a ComfyUI without custom nodes
    async with engine_world(schemas=[NATIVE]) as world:
        standard = await world.submit("alice")
        fast = await world.submit("bob", quality="fast", steps=4)
        await world.drain()
    assert set(world.front.delivered_ids()) == {standard.id, fast.id}
    prompts = world.fakes[0].prompts
    assert len(prompts) == 2
    assert all({"WanImageToVideo", "KSamplerAdvanced", "SaveVideo"} <= classes(p) for p in prompts)
    assert not any(c.startswith("WanVideo") for p in prompts for c in classes(p))
    loras = [p for p in prompts if "LoraLoaderModelOnly" in classes(p)]
    assert len(loras) == 1  # only the fast job has the step-distill pair


async def test_a_host_without_the_wrapper_talks_and_animates_on_core_nodes(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[NATIVE]) as world:
        # Windows shorter than the audio / pose clip: chains of windows in one graph.
        talk = await world.submit("alice", mode=Mode.INFINITETALK, frame_window=9)
        animate = await world.submit("bob", mode=Mode.ANIMATE, frame_window=5)
        await world.drain()
    assert set(world.front.delivered_ids()) == {talk.id, animate.id}
    by_class = {
        conditioning: next(p for p in world.fakes[0].prompts if conditioning in classes(p))
        for conditioning in ("WanInfiniteTalkToVideo", "WanAnimateToVideo")
    }
    assert not any(c.startswith("WanVideo") for p in by_class.values() for c in classes(p))
    for conditioning, prompt in by_class.items():
        windows = [n for n in prompt.values() if n["class_type"] == conditioning]
        assert len(windows) >= 2  # longer than one window: a chain
        assert {"KSampler", "BatchImagesNode", "SaveVideo"} <= classes(prompt)
    audio = by_class["WanInfiniteTalkToVideo"]["64"]["inputs"]["audio"]
    assert by_class["WanInfiniteTalkToVideo"][audio[0]]["class_type"] == "LoadAudio"


@pytest.mark.parametrize(
    ("backend", "sampler"), [("native", "KSamplerAdvanced"), ("auto", "WanVideoSampler")]
)
async def test_a_host_with_both_node_sets_uses_the_configured_backend(
    engine_world: WorldFactory, backend: str, sampler: str
) -> None:
    both = {**bundled_object_info(), **NATIVE}  # the wrapper's nodes and the native files
    async with engine_world(schemas=[both], backends=[backend]) as world:
        job = await world.submit("alice")
        await world.drain()
    assert world.front.delivered_ids() == [job.id]
    assert sampler in classes(world.fakes[0].prompts[0])


async def test_talk_and_animate_go_to_a_wrapper_host_where_the_native_one_lacks_files(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[native_i2v_schema(), bundled_object_info()]) as world:
        talk = await world.submit("alice", mode=Mode.INFINITETALK)
        animate = await world.submit("bob", mode=Mode.ANIMATE)
        await world.drain()
        stored = [await world.store.get(job.id) for job in (talk, animate)]
    assert [job.host for job in stored if job is not None] == ["gpu-2", "gpu-2"]
    assert set(world.front.delivered_ids()) == {talk.id, animate.id}
    assert world.fakes[0].prompts == []


async def test_talk_animate_and_long_videos_are_refused_where_no_host_can_make_them(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[native_i2v_schema()]) as world:
        for mode in (Mode.INFINITETALK, Mode.ANIMATE):
            with pytest.raises(InputError, match=f"can make {mode.value} videos yet"):
                await world.submit("alice", mode=mode)
        with pytest.raises(InputError, match="long videos"):
            await world.submit("alice", prompt="one | two", frames=21)
    assert world.fakes[0].prompts == []
