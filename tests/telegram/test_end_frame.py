"""`/i2v … --end` on a two-photo album: the second photo is the last frame."""

from __future__ import annotations

from fakes.media import png_bytes
from tests.telegram.conftest import HarnessFactory


async def test_a_two_photo_album_makes_a_first_and_last_frame_video(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        for index in range(2):
            message = tg.make_message(
                photo=tg.photo(png_bytes(480, 320), 480, 320),
                caption="/i2v a door opens —end --steps 3" if index == 0 else None,
                media_group_id="album-end",
            )
            await tg.push(message=message)
        video = await tg.wait_for("sendVideo")
        await h.engine.drain()
    (prompt,) = h.comfy.prompts
    encode = next(n for n in prompt.values() if n["class_type"] == "WanVideoImageToVideoEncode")
    end = prompt[prompt[encode["inputs"]["end_image"][0]]["inputs"]["image"][0]]
    first = prompt[encode["inputs"]["start_image"][0]]
    assert end["inputs"]["image"] != prompt[first["inputs"]["image"][0]]["inputs"]["image"]
    assert "a door opens" in str(video.fields.get("caption"))


async def test_end_without_a_second_photo_says_what_to_send(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        await tg.send_message(
            photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a door opens --end"
        )
        await tg.wait_text("exactly two photos")
        for index in range(3):
            message = tg.make_message(
                photo=tg.photo(png_bytes(320, 240), 320, 240),
                caption="/i2v a door --end" if index == 0 else None,
                media_group_id="album-three",
            )
            await tg.push(message=message)
        await tg.wait_for(
            "sendMessage", lambda c: "exactly two photos" in str(c.fields.get("text")), count=2
        )
    assert h.comfy.prompts == []
