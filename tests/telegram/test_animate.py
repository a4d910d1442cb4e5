"""WanAnimate through the real bot: an album, and a photo replying to a pose video."""

from __future__ import annotations

from tests.fakes.media import mp4_bytes, png_bytes
from tests.telegram.conftest import Harness, HarnessFactory


def animate_classes(h: Harness) -> set[str]:
    prompt = h.comfy.prompts[-1]
    nodes = prompt.get("prompt", prompt)
    return {n["class_type"] for n in nodes.values()}


async def test_album_is_reference_plus_pose_frames(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        first = None
        for index in range(5):
            message = tg.make_message(
                photo=tg.photo(png_bytes(320, 480), 320, 480),
                caption="/animate a dancer --steps 3" if index == 0 else None,
                media_group_id="album-1",
            )
            first = first or message
            await tg.push(message=message)
        assert first is not None
        video = await tg.wait_for("sendVideo")
        assert video.fields["reply_parameters"]["message_id"] == first["message_id"]
        assert "WanVideoAnimateEmbeds" in animate_classes(h)
        assert any(name.endswith(".mp4") for name in h.comfy.uploads)  # the packed pose clip
        assert len(tg.of("sendMessage")) == 1  # one acknowledgement for the whole album


async def test_photo_replying_to_pose_video(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        clip = tg.make_message(video=tg.video(mp4_bytes(width=160, height=96, frames=12)))
        sent = await tg.send_message(
            photo=tg.photo(png_bytes(320, 480), 320, 480),
            caption="/animate a dancer --steps 3",
            reply_to=clip,
        )
        video = await tg.wait_for("sendVideo")
        assert video.fields["reply_parameters"]["message_id"] == sent["message_id"]
        assert "WanVideoAnimateEmbeds" in animate_classes(h)


async def test_animate_without_pose_says_what_to_send(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 480), 320, 480), caption="/animate a dancer"
        )
        await tg.wait_text("pose")
        assert h.comfy.prompts == []


async def test_album_items_from_the_one_captioned_face_are_face_frames(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        captions = ["/animate a dancer --steps 3", None, None, "face", None]
        for caption in captions:
            await tg.push(
                message=tg.make_message(
                    photo=tg.photo(png_bytes(320, 480), 320, 480),
                    caption=caption,
                    media_group_id="album-2",
                )
            )
        await tg.wait_for("sendVideo")
        videos = [name for name in h.comfy.uploads if name.endswith(".mp4")]
        assert len(videos) == 2  # pose clip and face clip
