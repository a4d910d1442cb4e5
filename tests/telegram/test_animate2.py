"""Wan-Animate-2 through the real Telegram bot: a photo and a video of someone moving."""

from __future__ import annotations

from typing import Any

from fakes.comfy_schemas import animate2_schema
from fakes.media import mp4_bytes, png_bytes
from tests.telegram.conftest import Harness, HarnessFactory
from workflows.schema import bundled_object_info

WITH_MODEL: dict[str, Any] = {"object_info": animate2_schema(bundled_object_info())}


def classes(h: Harness) -> set[str]:
    (prompt,) = h.comfy.prompts
    nodes = prompt.get("prompt", prompt)
    return {n["class_type"] for n in nodes.values()}


async def test_photo_replying_to_a_video(harness: HarnessFactory) -> None:
    async with harness(comfy=WITH_MODEL) as h:
        tg = h.tg
        clip = tg.make_message(video=tg.video(mp4_bytes(width=160, height=96, frames=12)))
        sent = await tg.send_message(
            photo=tg.photo(png_bytes(320, 480), 320, 480),
            caption="/animate2 a dancer --pose-strength 0.8",
            reply_to=clip,
        )
        video = await tg.wait_for("sendVideo")
    assert video.fields["reply_parameters"]["message_id"] == sent["message_id"]
    assert "WanAnimate2ToVideo" in classes(h)
    assert "Animate-2" in video.fields["caption"]


async def test_video_captioned_animate2_replying_to_the_photo(harness: HarnessFactory) -> None:
    async with harness(comfy=WITH_MODEL) as h:
        tg = h.tg
        photo = tg.make_message(photo=tg.photo(png_bytes(320, 480), 320, 480))
        await tg.send_message(
            video=tg.video(mp4_bytes(width=160, height=96, frames=12)),
            caption="/animate2",
            reply_to=photo,
        )
        await tg.wait_for("sendVideo")
    assert "WanAnimate2ToVideo" in classes(h)


async def test_an_album_of_the_photo_and_the_video(harness: HarnessFactory) -> None:
    async with harness(comfy=WITH_MODEL) as h:
        tg = h.tg
        items = [
            {"photo": tg.photo(png_bytes(320, 480), 320, 480), "caption": "/animate2 a dancer"},
            {"video": tg.video(mp4_bytes(width=160, height=96, frames=12))},
        ]
        for item in items:
            await tg.push(message=tg.make_message(media_group_id="pair", **item))
        await tg.wait_for("sendVideo")
    assert "WanAnimate2ToVideo" in classes(h)


async def test_a_photo_alone_is_told_to_reply_to_a_video(harness: HarnessFactory) -> None:
    async with harness(comfy=WITH_MODEL) as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 480), 320, 480), caption="/animate2 a dancer"
        )
        await tg.wait_text("video of someone moving")
    assert h.comfy.prompts == []


async def test_without_a_host_with_the_model_it_says_so(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        clip = tg.make_message(video=tg.video(mp4_bytes(width=160, height=96, frames=12)))
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 480), 320, 480), caption="/animate2", reply_to=clip
        )
        await tg.wait_text("Wan-Animate-2's model")
    assert h.comfy.prompts == []
