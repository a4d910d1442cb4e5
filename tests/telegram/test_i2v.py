"""Standard I2V through the real bot: captioned photo, reply to a photo, delivery, buttons."""

from __future__ import annotations

from fakes.media import png_bytes
from fakes.telegram_server import EDITS, Call
from tests.telegram.conftest import HarnessFactory


def replies_to(call: Call, message_id: int) -> bool:
    params = call.fields.get("reply_parameters") or {}
    return params.get("message_id") == message_id


async def test_captioned_photo_is_acknowledged_tracked_and_delivered(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        assert [c["command"] for c in tg.commands][:3] == ["i2v", "talk", "animate"]
        sent = await tg.send_message(
            photo=tg.photo(png_bytes(640, 360), 640, 360),
            caption="/i2v a cat walking through a garden --steps 4 --seed 7",
        )
        video = await tg.wait_for("sendVideo")
        await h.engine.drain()

        ack = tg.of("sendMessage")[0]
        assert replies_to(ack, sent["message_id"])
        ack_id = ack.response["message_id"]
        shown = [c.words for c in tg.of(EDITS) if c.fields["message_id"] == ack_id and c.words]
        assert any("Accepted" in t and "Queue position" in t for t in shown)
        assert any("Generating" in t and "%" in t and "step" in t for t in shown)
        assert "done" in shown[-1]
        assert tg.identical_edits == 0

        assert replies_to(video, sent["message_id"])
        assert video.fields["supports_streaming"] is True
        assert video.fields["width"] > 0 and video.fields["height"] > 0
        assert video.fields["duration"] >= 1
        caption = video.fields["caption"]
        assert "a cat walking through a garden" in caption
        assert "7" in caption and len(caption) <= 1024
        assert video.file("thumbnail")[:2] == b"\xff\xd8"  # a JPEG
        archived = h.archived_videos()
        assert len(archived) == 1
        assert video.file("video") == archived[0].read_bytes()
        buttons = [
            b["callback_data"]
            for row in video.fields["reply_markup"]["inline_keyboard"]
            for b in row
        ]
        assert [b.split(":")[0] for b in buttons] == ["reroll", "extend", "details"]
        # The prompt reached ComfyUI with the user's parameters.
        assert len(h.comfy.prompts) == 1


async def test_reply_to_photo_uses_the_replied_photo(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        photo_msg = tg.make_message(photo=tg.photo(png_bytes(360, 640), 360, 640))
        sent = await tg.send_message(text="/i2v a dancer spinning --steps 3", reply_to=photo_msg)
        video = await tg.wait_for("sendVideo")
        assert replies_to(video, sent["message_id"])
        assert "a dancer spinning" in video.fields["caption"]
        # A portrait photo gives a portrait video.
        assert video.fields["height"] > video.fields["width"]
