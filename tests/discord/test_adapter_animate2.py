"""/animate2: a photo and a video of someone moving (Wan-Animate-2) through the real engine."""

from __future__ import annotations

from bot.frontend import DEFAULT_PROMPTS, Mode
from fakes.comfy_schemas import animate2_schema
from fakes.discord_objects import EPHEMERAL
from fakes.media import mp4_bytes, png_bytes
from tests.discord.conftest import HarnessFactory, answer_to, is_video
from workflows.schema import bundled_object_info


async def test_animate2_with_a_video(harness: HarnessFactory) -> None:
    async with harness(comfy={"object_info": animate2_schema(bundled_object_info())}) as h:
        fake = h.discord
        person = fake.attachment(png_bytes(320, 480), "me.png")
        moves = fake.attachment(mp4_bytes(width=160, height=96, frames=12), "dance.mp4")
        run = await fake.slash("animate2", image=person, video=moves, pose_strength=0.5)
        answer = await answer_to(fake, run)
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    assert "queued" in answer["content"] and answer["flags"] & EPHEMERAL
    (prompt,) = h.comfy.prompts
    node = next(n for n in prompt.values() if n["class_type"] == "WanAnimate2ToVideo")
    assert node["inputs"]["pose_strength"] == 0.5
    assert DEFAULT_PROMPTS[Mode.ANIMATE2] in video.payload["content"]


async def test_animate2_without_a_host_with_the_model_says_so(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        person = fake.attachment(png_bytes(320, 480), "me.png")
        moves = fake.attachment(mp4_bytes(frames=12), "dance.mp4")
        answer = await answer_to(fake, await fake.slash("animate2", image=person, video=moves))
    assert answer["flags"] & EPHEMERAL and "Wan-Animate-2's model" in answer["content"]
    assert h.comfy.prompts == []
