"""Limits under concurrency on Telegram: a burst of captioned photos, an album with an
unusable item, and refusals decided before anything is downloaded."""

from __future__ import annotations

import asyncio

from adapters.chat import texts
from fakes.media import png_bytes
from fakes.telegram_server import EDITS
from tests.telegram.conftest import HarnessFactory

ALICE = 111


async def test_a_burst_of_six_photos_runs_one_job_and_refuses_five_saying_when(
    harness: HarnessFactory,
) -> None:
    async with harness(comfy={"hold": True}) as h:
        h.config.quotas.jobs_per_day = 2
        h.config.quotas.cooldown_seconds = 600
        tg = h.tg
        # Large photos, so each takes a moment to prepare while the others arrive.
        for index in range(6):
            photo = tg.photo(png_bytes(1600 + index, 1200), 1600 + index, 1200)
            await tg.push(message=tg.make_message(photo=photo, caption="/i2v a cat --steps 2"))
        await tg.wait_for("sendMessage", lambda c: "Please wait" in str(c.fields["text"]), count=5)
        await tg.send_message(user_id=ALICE, text="/quota")
        quota = await tg.wait_for("sendMessage", lambda c: "Jobs:" in str(c.fields["text"]))
        h.comfy.hold = False
        h.comfy.release()
        await tg.wait_for("sendVideo")
        await h.engine.drain()
        texts_sent = tg.texts(ALICE)
    assert len(h.comfy.prompts) == 1
    refused = [t for t in texts_sent if t.startswith("Please wait")]
    assert len(refused) == 5 and all("10 min" in t for t in refused)
    assert texts_sent.count(texts.CHECKING) == 1  # only the accepted one was fetched
    assert "1 of 2 used" in str(quota.fields["text"])


async def test_an_album_with_an_unusable_item_queues_nothing_and_says_why_once(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        tg = h.tg
        items = [png_bytes(320, 240), b"this is not an image", png_bytes(320, 240)]
        for index, data in enumerate(items):
            message = tg.make_message(
                photo=tg.photo(data, 320, 240),
                caption="/i2v a dog --steps 2" if index == 0 else None,
                media_group_id="album-bad",
            )
            await tg.push(message=message)
        refusal = await tg.wait_text("not an image")
        await h.engine.drain()
        await tg.send_message(user_id=ALICE, text="/queue")
        await tg.wait_for("sendMessage", lambda c: "queue" in str(c.fields["text"]).lower())
        shown = tg.texts(ALICE)
    assert h.comfy.prompts == [] and await h.engine.status("telegram", str(ALICE)) is not None
    assert not any("Batch of 3" in t or "waiting…" in t for t in shown)
    # The refusal is the last word on the acknowledgement: nothing overwrote it.
    ack_id = refusal.fields.get("message_id")
    later = [c for c in tg.of(EDITS) if c.fields.get("message_id") == ack_id]
    assert later[-1] is refusal


async def test_an_album_over_the_caps_is_refused_before_any_download(
    harness: HarnessFactory,
) -> None:
    async with harness(queue={"max_queued_per_user": 3}) as h:
        tg = h.tg
        for index in range(6):
            message = tg.make_message(
                photo=tg.photo(png_bytes(320, 240), 320, 240),
                caption="/i2v a dog --steps 2" if index == 0 else None,
                media_group_id="album-big",
            )
            await tg.push(message=message)
        refusal = await tg.wait_text("These 6 jobs do not fit")
        await asyncio.sleep(0)
    assert refusal.method == "sendMessage" and tg.of("getFile") == []
    assert texts.CHECKING not in tg.texts(ALICE) and h.comfy.prompts == []
