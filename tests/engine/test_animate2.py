"""Wan-Animate-2 end to end through the engine and the fake ComfyUI: on ComfyUI's own nodes on
any host that has its model (with the wrapper or without), refused where none has."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import InputError
from bot.request import Mode
from fakes.comfy_schemas import animate2_schema, native_schema
from fakes.media import probe
from tests.engine.conftest import WorldFactory
from workflows.schema import bundled_object_info


def classes(prompt: dict[str, Any]) -> set[str]:
    return {node["class_type"] for node in prompt.values()}


@pytest.mark.parametrize(
    "schema", [animate2_schema(), animate2_schema(bundled_object_info())], ids=["core", "wrapper"]
)
async def test_a_host_with_the_model_moves_the_photo_like_the_video(
    engine_world: WorldFactory, schema: dict[str, Any]
) -> None:
    async with engine_world(schemas=[schema]) as world:
        job = await world.submit("alice", mode=Mode.ANIMATE2, prompt="", steps=None)
        await world.drain()
        stored = await world.store.get(job.id)
    assert world.front.delivered_ids() == [job.id]
    assert stored is not None and stored.request.params.steps == 6  # the template's recipe
    (prompt,) = world.fakes[0].prompts
    assert {"WanAnimate2ToVideo", "WanAnimate2Cache", "LoadVideo", "SaveVideo"} <= classes(prompt)
    assert not any(c.startswith("WanVideo") for c in classes(prompt))
    # The 12-frame motion video makes a 9-frame video (4n+1), the length the job was given.
    (delivery,) = world.front.deliveries
    assert probe(delivery.result.video).frames == stored.request.params.frames == 9


async def test_it_goes_to_the_host_with_the_model(engine_world: WorldFactory) -> None:
    async with engine_world(schemas=[bundled_object_info(), animate2_schema()]) as world:
        job = await world.submit("alice", mode=Mode.ANIMATE2, steps=None)
        await world.drain()
        stored = await world.store.get(job.id)
    assert stored is not None and stored.host == "gpu-2"
    assert world.fakes[0].prompts == []


async def test_without_a_host_with_the_model_it_is_refused(engine_world: WorldFactory) -> None:
    async with engine_world(schemas=[bundled_object_info(), native_schema()]) as world:
        with pytest.raises(InputError, match="Wan-Animate-2's model"):
            await world.submit("alice", mode=Mode.ANIMATE2, steps=None)
    assert all(fake.prompts == [] for fake in world.fakes)
