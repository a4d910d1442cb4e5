"""A long video from Discord: `length` and `shots` options; one card that says which clip is
being made, one video at the end."""

from __future__ import annotations

from typing import Any

from fakes.comfy_schemas import svi_schema
from fakes.discord_server import FakeDiscord
from fakes.media import clip_numbers, png_bytes
from tests.discord.conftest import HarnessFactory, is_video


def texts_of(prompt: dict[str, Any]) -> list[str]:
    return [
        n["inputs"]["positive_prompt"]
        for n in prompt.values()
        if n["class_type"] == "WanVideoTextEncode"
    ]


def card_texts(fake: FakeDiscord) -> list[str]:
    return [str(c.payload.get("content", "")) for c in fake.of("edit_message")]


async def test_shots_make_one_video_clip_by_clip(harness: HarnessFactory) -> None:
    async with harness(comfy={"object_info": svi_schema(), "scale": 1.0}) as h:
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "cat.png")
        await fake.slash(
            "i2v", image=image, prompt="a cat wakes up", shots="it stretches | it walks away",
            frames=21, steps=4, size="256x256",
        )  # fmt: skip
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    shown = [texts_of(p)[0] for p in h.comfy.prompts]
    assert shown == ["a cat wakes up", "it stretches", "it walks away"]
    assert any("clip 3 of 3" in t for t in card_texts(fake))
    assert len([c for c in fake.of("create_message") if is_video(c)]) == 1
    assert clip_numbers(video.file(0))[-1] == 2
