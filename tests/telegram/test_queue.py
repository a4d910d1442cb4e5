"""/queue, /cancel and the Cancel button, with two users sharing one held host."""

from __future__ import annotations

from fakes.media import png_bytes
from fakes.telegram_server import EDITS, Call
from tests.telegram.conftest import Harness, HarnessFactory

ALICE, BOB = 111, 222


async def submit(h: Harness, user: int, prompt: str) -> dict:
    tg = h.tg
    return await tg.send_message(
        user_id=user, photo=tg.photo(png_bytes(320, 240), 320, 240), caption=f"/i2v {prompt}"
    )


def to_chat(chat: int, needle: str):
    def match(call: Call) -> bool:
        return call.fields.get("chat_id") == chat and needle in (call.words or "")

    return match


async def test_queue_lists_own_jobs_and_cancel_buttons_work(harness: HarnessFactory) -> None:
    async with harness(comfy={"hold": True}) as h:
        tg = h.tg
        await submit(h, ALICE, "alice's cat")
        await tg.wait_for(EDITS, to_chat(ALICE, "Generating"))
        await submit(h, BOB, "bob's dog")
        await tg.wait_for(EDITS, to_chat(BOB, "Queue position: 1"))

        await tg.send_message(user_id=ALICE, text="/queue")
        alice_view = await tg.wait_for("sendMessage", to_chat(ALICE, "Your jobs"))
        text = alice_view.fields["text"]
        assert "alice's cat" in text and "bob's dog" not in text
        assert "running" in text and "%" in text
        assert "1 waiting, 1 running" in text
        await tg.send_message(user_id=BOB, text="/queue@wan_test_bot")
        bob_view = await tg.wait_for("sendMessage", to_chat(BOB, "Your jobs"))
        assert "bob's dog" in bob_view.fields["text"] and "position 1" in bob_view.fields["text"]
        assert "ETA" in bob_view.fields["text"]

        # Alice cancels her running job with the button under her /queue reply.
        buttons = alice_view.fields["reply_markup"]["inline_keyboard"]
        data = buttons[0][0]["callback_data"]
        assert data.startswith("cancel:")
        query = await tg.press_button(alice_view.response, data, user_id=ALICE)
        answer = await tg.wait_for(
            "answerCallbackQuery", lambda c: c.fields["callback_query_id"] == query
        )
        assert "cancelled" in answer.fields["text"]
        await tg.wait_for(EDITS, to_chat(ALICE, "cancelled"))
        await h.comfy.wait_until(lambda: bool(h.comfy.interrupts) or bool(h.comfy.deleted))

        # Bob's job starts on the freed host; Bob may not cancel Alice's (gone) job, but /cancel
        # with no id cancels his own newest.
        await tg.wait_for(EDITS, to_chat(BOB, "Generating"))
        await tg.send_message(user_id=BOB, text="/cancel")
        await tg.wait_for("sendMessage", to_chat(BOB, "cancelled"))
        await h.engine.drain()
        assert tg.of("sendVideo") == []


async def test_cancel_button_of_someone_else_is_refused(harness: HarnessFactory) -> None:
    async with harness(comfy={"hold": True}) as h:
        tg = h.tg
        await submit(h, ALICE, "alice's cat")
        await tg.wait_for(EDITS, to_chat(ALICE, "Accepted"))
        await tg.send_message(user_id=ALICE, text="/queue")
        view = await tg.wait_for("sendMessage", to_chat(ALICE, "Your jobs"))
        data = view.fields["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        query = await tg.press_button(view.response, data, user_id=BOB)
        answer = await tg.wait_for(
            "answerCallbackQuery", lambda c: c.fields["callback_query_id"] == query
        )
        assert answer.fields.get("show_alert") is True
        assert h.comfy.interrupts == []


async def test_cancel_takes_a_job_id_copied_with_its_backticks(harness: HarnessFactory) -> None:
    """As on Discord: a job id pasted from a code span (`abc123`) names the job."""
    async with harness(comfy={"hold": True}) as h:
        tg = h.tg
        await submit(h, ALICE, "alice's cat")
        await tg.wait_for(EDITS, to_chat(ALICE, "Accepted"))
        (job,) = (await h.engine.status("telegram", str(ALICE))).jobs
        await tg.send_message(user_id=ALICE, text=f"/cancel `{job.id}`")
        answer = await tg.wait_for("sendMessage", to_chat(ALICE, "cancelled"))
        await h.engine.drain()
    assert answer.fields["text"] == f"🚫 Job {job.id} cancelled."
