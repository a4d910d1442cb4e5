"""A long video from Telegram: shots in the caption, one card that says which clip is being
made, one video at the end; refused politely where no host can make it."""

from __future__ import annotations

from fakes.comfy_schemas import svi_schema
from fakes.media import clip_numbers, png_bytes
from fakes.telegram_server import EDITS
from tests.telegram.conftest import HarnessFactory

WITH_SVI = svi_schema()
CAPTION = "/i2v a cat wakes up | the cat stretches --frames 21 --size 256x256 --steps 4"


async def test_shots_make_one_video_and_the_card_says_which_clip(harness: HarnessFactory) -> None:
    async with harness(comfy={"object_info": WITH_SVI, "scale": 1.0}) as h:
        await h.tg.send_message(photo=h.tg.photo(png_bytes(320, 240), 320, 240), caption=CAPTION)
        video = await h.tg.wait_for("sendVideo")
        await h.engine.drain()
    shown = [c.words or "" for c in h.tg.of(EDITS)]
    assert any("clip 1 of 2" in t for t in shown) and any("clip 2 of 2" in t for t in shown)
    assert len(h.tg.of("sendVideo")) == 1 and "a cat wakes up | the cat stretches" in str(
        video.fields["caption"]
    )
    (archived,) = h.archived_videos()
    assert set(clip_numbers(archived)) == {0, 1}


async def test_a_long_video_is_refused_where_no_host_can_make_it(harness: HarnessFactory) -> None:
    async with harness() as h:
        await h.tg.send_message(
            photo=h.tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a cat --length 20s"
        )
        refusal = await h.tg.wait_text("long videos")
        await h.engine.drain()
    assert "wanbot check" in str(refusal.words) and h.comfy.prompts == []
