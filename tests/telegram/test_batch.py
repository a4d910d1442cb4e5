"""Batches on Telegram: `--batch N` and an album of photos make N jobs on one card."""

from __future__ import annotations

from fakes.media import png_bytes
from fakes.telegram_server import EDITS, Call
from tests.telegram.conftest import HarnessFactory


def edits_of(calls: list[Call], message_id: int) -> list[str]:
    return [str(c.words) for c in calls if c.fields.get("message_id") == message_id]


async def test_batch_makes_n_jobs_with_consecutive_seeds_on_one_card(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        photo = tg.photo(png_bytes(320, 240), 320, 240)
        await tg.send_message(photo=photo, caption="/i2v a cat --steps 2 --seed 7 --batch 3")
        await tg.wait_for("sendVideo", count=3)
        await h.engine.drain()
    seeds = sorted(
        n["inputs"]["seed"]
        for p in h.comfy.prompts
        for n in p.values()
        if n["class_type"] == "WanVideoSampler"
    )
    assert seeds == [7, 8, 9]
    (ack,) = [c for c in tg.of("sendMessage") if "checking your files" in str(c.fields["text"])]
    card = edits_of(tg.of(EDITS), ack.response["message_id"])
    assert card and all(text.startswith("📦 Batch of 3 jobs") for text in card)
    assert card[-1].count("done") == 3
    assert len([c for c in tg.of("sendMessage") if "Accepted" in str(c.fields.get("text"))]) == 0


async def test_an_album_of_photos_makes_one_job_each_and_a_batch_too_big_is_refused(
    harness: HarnessFactory,
) -> None:
    async with harness(queue={"max_queued_per_user": 3}) as h:
        tg = h.tg
        for index in range(2):
            message = tg.make_message(
                photo=tg.photo(png_bytes(320, 240), 320, 240),
                caption="/i2v a dog --steps 2" if index == 0 else None,
                media_group_id="album-two",
            )
            await tg.push(message=message)
        await tg.wait_for("sendVideo", count=2)
        await h.engine.drain()
        photo = tg.photo(png_bytes(320, 240), 320, 240)
        await tg.send_message(photo=photo, caption="/i2v a dog --batch 4")
        await tg.wait_text("These 4 jobs do not fit")
    assert len(h.comfy.prompts) == 2
    images = {
        n["inputs"]["image"]
        for p in h.comfy.prompts
        for n in p.values()
        if n["class_type"] == "LoadImage"
    }
    assert len(images) == 2
