"""Hosts without ComfyUI-WanVideoWrapper: image to video on ComfyUI's own nodes, end to end
through the engine and the fake ComfyUI (which serves only core classes); the modes and long
videos that need the wrapper go to a host that has it, or are refused where none has."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import InputError
from bot.request import Mode
from fakes.comfy_schemas import native_schema
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


async def test_talk_goes_to_the_host_with_the_wrapper(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[NATIVE, bundled_object_info()]) as world:
        talk = await world.submit("alice", mode=Mode.INFINITETALK)
        await world.drain()
        stored = await world.store.get(talk.id)
    assert stored is not None and stored.host == "gpu-2"
    assert talk.id in world.front.delivered_ids() and world.fakes[0].prompts == []


async def test_without_a_wrapper_host_talk_and_long_videos_are_refused(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(schemas=[NATIVE]) as world:
        with pytest.raises(InputError, match="image to video only"):
            await world.submit("alice", mode=Mode.INFINITETALK)
        with pytest.raises(InputError, match="long videos"):
            await world.submit("alice", prompt="one | two", frames=21)
    assert world.fakes[0].prompts == []
