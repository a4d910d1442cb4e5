"""WanAnimate through the real bot: an album, and a photo paired with a pose video or zip."""

from __future__ import annotations

import io
import zipfile

from bot.frontend import DEFAULT_PROMPTS, Mode
from fakes.media import mp4_bytes, png_bytes, probe
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


def zip_of_frames(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            archive.writestr(f"frame_{index + 1}.png", png_bytes(160, 240, (index * 20, 80, 40)))
    return buffer.getvalue()


def pose_clip(h: Harness) -> bytes:
    pose = [data for name, data in h.comfy.uploads.items() if name.endswith(".mp4")]
    assert len(pose) == 1
    return pose[0]


async def test_photo_replying_to_a_zip_of_pose_frames(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        poses = tg.make_message(
            document=tg.document(zip_of_frames(9), "application/zip", name="poses.zip")
        )
        sent = await tg.send_message(
            photo=tg.photo(png_bytes(320, 480), 320, 480),
            caption="/animate a dancer --steps 3",
            reply_to=poses,
        )
        video = await tg.wait_for("sendVideo")
        assert video.fields["reply_parameters"]["message_id"] == sent["message_id"]
        assert "WanVideoAnimateEmbeds" in animate_classes(h)
        assert probe(pose_clip(h)).frames == 9  # one frame per image in the zip


async def test_zip_captioned_animate_replying_to_the_photo(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        photo = tg.make_message(photo=tg.photo(png_bytes(320, 480), 320, 480))
        # Some clients send zips as application/octet-stream; the name tells.
        document = tg.document(zip_of_frames(5), "application/octet-stream", name="moves.ZIP")
        await tg.send_message(
            document=document, caption="/animate a dancer --steps 3", reply_to=photo
        )
        await tg.wait_for("sendVideo")
        assert probe(pose_clip(h)).frames == 5


async def test_animate_without_a_prompt_runs_with_the_default_as_on_discord(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        clip = tg.make_message(video=tg.video(mp4_bytes(width=160, height=96, frames=12)))
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 480), 320, 480),
            caption="/animate --steps 3",
            reply_to=clip,
        )
        video = await tg.wait_for("sendVideo")
        await h.engine.drain()
    assert DEFAULT_PROMPTS[Mode.ANIMATE] in str(video.fields["caption"])
    nodes = h.comfy.prompts[-1]
    texts = [n["inputs"].get("positive_prompt") for n in nodes.values()]
    assert DEFAULT_PROMPTS[Mode.ANIMATE] in texts


async def test_image_to_video_without_a_prompt_is_asked_for_one_before_any_download(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v")
        refusal = await tg.wait_text("Add a prompt")
    assert refusal.method == "sendMessage" and tg.of("getFile") == []
