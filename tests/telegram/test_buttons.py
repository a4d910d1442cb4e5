"""Buttons act only for the job's owner (or an admin): anyone else gets a polite refusal."""

from __future__ import annotations

from typing import Any

from adapters.chat import texts
from adapters.chat.markup import PLAIN
from fakes.media import png_bytes
from fakes.telegram_server import Call, FakeTelegram
from tests.telegram.conftest import HarnessFactory

ALICE, BOB, ADMIN = 111, 222, 333
GROUP = -100123


def is_details(call: Call) -> bool:
    return str(call.fields["text"]).startswith("Job ")


async def press(tg: FakeTelegram, message: dict[str, Any], data: str, user: int) -> Call:
    query = await tg.press_button(message, data, user_id=user)
    return await tg.wait_for(
        "answerCallbackQuery", lambda c: c.fields["callback_query_id"] == query
    )


def buttons_of(video: Call) -> tuple[str, str, str]:
    """Reroll, Extend and Details under a delivered image-to-video result."""
    row = video.fields["reply_markup"]["inline_keyboard"][0]
    reroll, extend, details = (b["callback_data"] for b in row)
    return reroll, extend, details


async def test_details_and_reroll_of_someone_elses_video_are_refused(
    harness: HarnessFactory,
) -> None:
    async with harness(queue={"admins": [f"telegram:{ADMIN}"]}) as h:
        tg = h.tg
        await tg.send_message(
            user_id=ALICE,
            chat_id=GROUP,
            chat_type="supergroup",
            photo=tg.photo(png_bytes(320, 240), 320, 240),
            caption="/i2v alice's secret prompt --steps 3",
        )
        video = await tg.wait_for("sendVideo")
        await h.engine.drain()
        reroll, extend, details = buttons_of(video)
        sent_before = len(tg.of("sendMessage"))

        for data in (details, reroll, extend):
            answer = await press(tg, video.response, data, BOB)
            assert answer.fields["text"] == texts.NOT_YOUR_JOB
            assert answer.fields.get("show_alert") is True
        await h.engine.drain()
        assert len(tg.of("sendMessage")) == sent_before  # no details, no new status message
        assert len(h.comfy.prompts) == 1

        answer = await press(tg, video.response, details, ADMIN)
        assert "text" not in answer.fields
        info = await tg.wait_for("sendMessage", is_details)
        assert "alice's secret prompt" in info.fields["text"]
        await press(tg, video.response, details, ALICE)
        await tg.wait_for("sendMessage", is_details, count=2)


async def test_forged_reroll_leaves_the_owners_status_message_alone(
    harness: HarnessFactory,
) -> None:
    async with harness(comfy={"hold": True}) as h:
        tg = h.tg
        await tg.send_message(
            user_id=ALICE, photo=tg.photo(png_bytes(320, 240), 320, 240), caption="/i2v a cat"
        )
        ack = await tg.wait_for("sendMessage")
        await tg.wait_text("Generating")
        job = (await h.engine.status("telegram", str(ALICE))).jobs[0]
        # After a restart the job's next event edits its status message again.
        await h.restart()
        forged = {"message_id": 1, "date": 0, "chat": {"id": BOB, "type": "private"}}
        answer = await press(tg, forged, f"reroll:{job.id}", BOB)
        assert answer.fields["text"] == texts.NOT_YOUR_JOB

        h.comfy.release()
        await tg.wait_for("sendVideo")
        await h.engine.drain()
        to_alice = [c for c in tg.of("sendMessage") if c.fields["chat_id"] == ALICE]
        assert to_alice == [ack]
        done = tg.shown[(ALICE, ack.response["message_id"])]
        assert done == texts.done(job.id, PLAIN)
        assert len(h.comfy.prompts) == 1
