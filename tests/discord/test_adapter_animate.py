"""/animate: a photo and a pose video (plus optional face frames) through the real engine."""

from __future__ import annotations

from bot.frontend import DEFAULT_PROMPTS, Mode
from fakes.discord_objects import EPHEMERAL
from fakes.media import mp4_bytes, png_bytes
from tests.discord.conftest import Harness, HarnessFactory, answer_to, is_video


def classes(h: Harness) -> set[str]:
    (prompt,) = h.comfy.prompts
    return {n["class_type"] for n in prompt.values()}


async def test_animate_with_a_pose_video(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        person = fake.attachment(png_bytes(320, 480), "me.png")
        pose = fake.attachment(mp4_bytes(width=160, height=96, frames=12), "dance.mp4")
        run = await fake.slash(
            "animate", image=person, pose=pose, steps=3, pose_strength=2.0, color_match="mkl"
        )
        answer = await answer_to(fake, run)
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    assert "queued" in answer["content"] and answer["flags"] & EPHEMERAL
    assert "WanVideoAnimateEmbeds" in classes(h)
    assert any(name.endswith(".mp4") for name in h.comfy.uploads)  # the packed pose clip
    assert DEFAULT_PROMPTS[Mode.ANIMATE] in video.payload["content"]
    (prompt,) = h.comfy.prompts
    embeds = next(n for n in prompt.values() if n["class_type"] == "WanVideoAnimateEmbeds")
    assert embeds["inputs"]["pose_strength"] == 2.0
    assert any(n["inputs"].get("colormatch") == "mkl" for n in prompt.values())


async def test_animate_with_face_frames_of_another_length_is_explained(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        person = fake.attachment(png_bytes(320, 480), "me.png")
        pose = fake.attachment(mp4_bytes(frames=12), "dance.mp4")
        face = fake.attachment(png_bytes(64, 64), "face.png")
        run = await fake.slash("animate", image=person, pose=pose, face=face, prompt="a dancer")
        answer = await answer_to(fake, run)
    assert answer["flags"] & EPHEMERAL and "face" in answer["content"].lower()
    assert h.comfy.prompts == []
