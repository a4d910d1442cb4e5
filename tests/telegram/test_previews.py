"""The job card on Telegram while the GPU works: the newest preview as its photo (added to the
text card with editMessageMedia), at most one edit per interval, a Stop button for the owner
and admins that cancels at once, and a preview refused by flood control that delays nothing
but previews."""

from __future__ import annotations

import itertools

from adapters.chat import texts
from adapters.chat.markup import PLAIN
from fakes.comfy_previews import preview_jpeg
from fakes.media import png_bytes
from fakes.telegram_server import EDITS, Call, FakeTelegram
from tests.factories import PREVIEWS_EVERY_STEP
from tests.telegram.conftest import Harness, HarnessFactory

ALICE, BOB, ADMIN = 111, 222, 333
GROUP = -100123
INTERVAL = 0.3


async def ask(h: Harness, user: int = ALICE, prompt: str = "a cat") -> int:
    """A photo captioned /i2v in the group; returns the card's message id."""
    in_group = lambda c: c.fields.get("chat_id") == GROUP  # noqa: E731
    count = len([c for c in h.tg.of("sendMessage") if in_group(c)]) + 1
    await h.tg.send_message(
        user_id=user,
        chat_id=GROUP,
        chat_type="supergroup",
        photo=h.tg.photo(png_bytes(320, 240), 320, 240),
        caption=f"/i2v {prompt}",
    )
    ack = await h.tg.wait_for("sendMessage", in_group, count=count)
    return int(ack.response["message_id"])


def on_card(card: int) -> object:
    return lambda c: c.fields.get("message_id") == card


def stop_data(call: Call) -> list[str]:
    rows = (call.fields.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if b["text"] == "⏹ Stop"]


async def press(tg: FakeTelegram, card: int, data: str, user: int) -> Call:
    message = {**tg.make_message(chat_id=GROUP, chat_type="supergroup"), "message_id": card}
    query = await tg.press_button(message, data, user_id=user)
    return await tg.wait_for(
        "answerCallbackQuery", lambda c: c.fields["callback_query_id"] == query
    )


async def test_the_card_shows_the_newest_preview_at_most_once_per_interval(
    harness: HarnessFactory,
) -> None:
    async with harness(**PREVIEWS_EVERY_STEP, edit_interval=INTERVAL) as h:
        card = await ask(h)
        await h.tg.wait_for("sendVideo")
        await h.engine.drain()
    edits = [c for c in h.tg.of(EDITS) if c.fields["message_id"] == card]
    photos = [
        c.file_at(c.fields["media"]["media"]) for c in edits if c.method == "editMessageMedia"
    ]
    # The photo changes as sampling goes on, to frames the host really sent.
    assert len(photos) >= 2 and len(set(photos)) == len(photos)
    assert set(photos) <= {preview_jpeg(step) for step in range(1, 9)}
    # While the job may be stopped, every edit has a Stop button; at most one per interval
    # (the final ones, "sending" and "done", go at once).
    generating = [c for c in edits if "Generating" in (c.words or "")]
    assert generating and all(stop_data(c) for c in generating)
    live = [c for c in edits if stop_data(c)]
    gaps = [b.at - a.at for a, b in itertools.pairwise(live)]
    assert all(gap >= INTERVAL - 0.01 for gap in gaps), gaps
    # The end: the last preview stays, the caption says done, the Stop button is gone.
    shown = h.tg.messages[(GROUP, card)]
    assert shown.photo == photos[-1] and "done" in shown.words and shown.buttons() == []


async def test_stop_on_the_card_cancels_the_job_on_comfyui_for_its_owner_or_an_admin(
    harness: HarnessFactory,
) -> None:
    async with harness(comfy={"hold": True}, queue={"admins": [f"telegram:{ADMIN}"]}) as h:
        card = await ask(h, ALICE)
        generating = await h.tg.wait_for(EDITS, lambda c: "Generating" in (c.words or ""))
        await h.tg.wait_for("editMessageMedia", on_card(card))  # the first preview is shown
        (data,) = stop_data(generating)
        job = data.removeprefix("stop:")
        refused = await press(h.tg, card, data, BOB)
        assert refused.fields["text"] == texts.NOT_YOUR_JOB and h.comfy.interrupts == []
        answer = await press(h.tg, card, data, ALICE)
        assert answer.fields["text"] == texts.cancelled(job, PLAIN)
        await h.tg.wait_for(EDITS, lambda c: "cancelled" in (c.words or ""))
        await h.engine.drain()
        # The admin's Stop on another job.
        other = await ask(h, BOB, "a dog")
        live = await h.tg.wait_for(EDITS, lambda c: on_card(other)(c) and bool(stop_data(c)))
        (bob_data,) = stop_data(live)
        await press(h.tg, other, bob_data, ADMIN)
        await h.engine.drain()
        stored = await h.store.get(job)
    assert stored is not None and stored.prompt_id is not None
    assert h.comfy.interrupts[0] == stored.prompt_id  # the running prompt was interrupted
    assert h.tg.of("sendVideo") == []
    assert h.tg.messages[(GROUP, card)].buttons() == []
    assert "cancelled" in h.tg.messages[(GROUP, card)].words
    assert "cancelled by an admin" in h.tg.messages[(GROUP, other)].words


async def test_flood_control_on_a_preview_delays_only_previews(harness: HarnessFactory) -> None:
    async with harness(
        comfy={"steps": 6, "job_seconds": 1.2}, queue={"preview_interval": 0.0}
    ) as h:
        h.tg.fail_next("editMessageMedia", retry_after=3600)
        card = await ask(h)
        refused = await h.tg.wait_for("editMessageMedia")
        # Delivered and done without waiting an hour: the text went on without the photo.
        await h.tg.wait_for("sendVideo")
        await h.tg.wait_for(EDITS, lambda c: on_card(card)(c) and "done" in (c.words or ""))
        await h.engine.drain()
    texts_after = [c for c in h.tg.of("editMessageText") if c.at > refused.at]
    assert any("Generating" in (c.words or "") for c in texts_after)
    assert len(h.tg.of("editMessageMedia")) == 1  # no other preview within the hour
    assert h.tg.messages[(GROUP, card)].photo is None
