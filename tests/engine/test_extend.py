"""Extending a finished clip: continued from its last frame, delivered joined to it."""

from __future__ import annotations

import io
import json

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from bot.engine.jobs import JobStatus
from bot.errors import UserError
from bot.request import Mode
from fakes.media import probe
from tests.engine.conftest import WorldFactory


async def test_an_extension_starts_on_the_last_frame_and_comes_joined(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"scale": 1.0}) as world:
        first = await world.submit("alice", frames=17)
        await world.drain()
        assert first.status is JobStatus.DONE and first.output is not None
        more = await world.engine.extend(
            first.id, platform="test", user_id="alice", prompt="the cat jumps"
        )
        await world.drain()
    original, joined = probe(first.output), probe(more.output)  # type: ignore[arg-type]
    continuation = probe(more.output.with_name(more.output.name.replace("_extended", "")))  # type: ignore[union-attr]
    # Each clip is 17 frames; the continuation's first repeats the original's last.
    assert joined.frames == original.frames + continuation.frames - 1 == 33
    assert (joined.width, joined.height) == (original.width, original.height)
    assert world.front.delivered_ids() == [first.id, more.id]
    assert world.front.deliveries[-1].result.video == more.output
    record = json.loads(more.output.with_suffix(".json").read_text())  # type: ignore[union-attr]
    assert record["lineage"]["extends"] == first.id
    assert record["lineage"]["original"] == str(first.output)
    assert record["request"]["prompt"] == "the cat jumps"
    assert record["request"]["extends"]["job_id"] == first.id
    assert record["video"]["frames"] == 33
    # The host got the original's last frame as the start image.
    prompt = world.fakes[0].prompts[-1]
    loader = next(n for n in prompt.values() if n["class_type"] == "LoadImage")
    with Image.open(io.BytesIO(world.fakes[0].uploads[loader["inputs"]["image"]])) as sent:
        start = sent.convert("RGB")
    with av.open(str(first.output)) as container:
        last = list(container.decode(video=0))[-1].to_image()
    assert max(ImageStat.Stat(ImageChops.difference(start, last)).mean) < 2.0


async def test_only_the_owner_extends_a_finished_image_to_video_clip(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        talk = await world.submit("alice", mode=Mode.INFINITETALK)
        clip = await world.submit("alice")
        await world.drain()
        with pytest.raises(UserError, match="someone else's"):
            await world.engine.extend(clip.id, platform="test", user_id="bob")
        with pytest.raises(UserError, match="Only image-to-video"):
            await world.engine.extend(talk.id, platform="test", user_id="alice")
        assert clip.output is not None
        clip.output.unlink()
        with pytest.raises(UserError, match="not in the archive"):
            await world.engine.extend(clip.id, platform="test", user_id="alice")
