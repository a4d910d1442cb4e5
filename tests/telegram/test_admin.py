"""Admin commands through the fake Telegram: only admins; hosts, pause/resume, drain, block,
and cancelling anyone's job."""

from __future__ import annotations

from adapters.chat import texts
from adapters.chat.markup import PLAIN
from fakes.comfy_faults import Fault
from fakes.media import png_bytes
from fakes.telegram_server import EDITS, Call
from tests.telegram.conftest import Harness, HarnessFactory

ADMIN, BOB = 999, 222
ADMINS = {"admins": [f"telegram:{ADMIN}"]}


def to_chat(chat: int, needle: str):
    def match(call: Call) -> bool:
        return call.fields.get("chat_id") == chat and needle in (call.words or "")

    return match


async def say(h: Harness, user: int, text: str, needle: str) -> str:
    """Send `text` as `user`; the bot's answer in their chat that contains `needle`."""
    await h.tg.send_message(user_id=user, text=text)
    return str((await h.tg.wait_for("sendMessage", to_chat(user, needle))).fields["text"])


async def submit(h: Harness, user: int) -> None:
    tg = h.tg
    photo = tg.photo(png_bytes(320, 240), 320, 240)
    await tg.send_message(user_id=user, photo=photo, caption="/i2v a dog --steps 3")


async def test_admins_pause_a_host_drain_and_block_others_are_refused(
    harness: HarnessFactory,
) -> None:
    async with harness(queue=ADMINS) as h:
        assert await say(h, BOB, "/hosts", "admins") == texts.ADMIN_ONLY
        hosts = await say(h, ADMIN, "/hosts", "fake")
        assert hosts.startswith("fake: up") and texts.TAKING_JOBS in hosts

        await say(h, ADMIN, "/pause fake", "Host fake")
        await submit(h, BOB)
        await h.tg.wait_for(EDITS, to_chat(BOB, "Queue position: 1"))
        assert h.comfy.prompts == []  # the paused host takes nothing
        assert "paused" in await say(h, ADMIN, "/hosts", "fake: up, paused")
        await say(h, ADMIN, "/resume fake", "takes jobs again")
        await h.tg.wait_for("sendVideo", lambda c: c.fields.get("chat_id") == BOB)
        await h.engine.drain()

        downloads = len(h.tg.of("getFile"))
        await say(h, ADMIN, "/drain", "Draining")
        await submit(h, BOB)
        # Refused before anything is fetched: no "checking your files…", no download.
        await h.tg.wait_for("sendMessage", to_chat(BOB, "finishing its queue"))
        await say(h, ADMIN, "/resume", "takes new jobs again")

        await say(h, ADMIN, f"/block {BOB}", "is blocked")
        await submit(h, BOB)
        await h.tg.wait_for("sendMessage", to_chat(BOB, "cannot use this bot"))
        assert len(h.tg.of("getFile")) == downloads
        assert h.tg.texts(BOB).count(texts.CHECKING) == 1  # the first job's only
        assert f"telegram:{BOB}" in await say(h, ADMIN, "/block", "Blocked:")
        await say(h, ADMIN, f"/unblock {BOB}", "may use the bot again")
        assert "12" in await say(h, ADMIN, "/unblock 12", "is not blocked")
        await h.engine.drain()
    assert len(h.comfy.prompts) == 1


async def test_an_admin_cancels_anyones_job(harness: HarnessFactory) -> None:
    async with harness(comfy={"hold": True}, queue=ADMINS) as h:
        await submit(h, BOB)
        await h.tg.wait_for(EDITS, to_chat(BOB, "Generating"))
        (view,) = (await h.engine.status("telegram", str(BOB))).jobs
        job = view.id
        assert "cancelled" in await say(h, ADMIN, f"/cancel {job}", "cancelled")
        told = await h.tg.wait_for(EDITS, to_chat(BOB, "cancelled"))
        await h.engine.drain()
    assert told.words == texts.cancelled(job, PLAIN, by_admin=True)


async def test_an_admin_refetches_a_video_that_was_made_but_not_fetched(
    harness: HarnessFactory,
) -> None:
    async with harness(queue=ADMINS) as h:
        h.config.comfy.fetch_retry_seconds = 0.3
        h.comfy.view_faults = [Fault.ERROR] * 1000  # the host's /view keeps failing
        await submit(h, BOB)
        failed = await h.tg.wait_for(EDITS, to_chat(BOB, "could not be fetched"))
        await h.engine.drain()
        text = str(failed.words)
        job = text.removeprefix("❌ Job ").split()[0]
        assert "/refetch" in text
        assert texts.ADMIN_ONLY in await say(h, BOB, f"/refetch {job}", "admins")
        h.comfy.view_faults = []  # the host answers again
        answer = await say(h, ADMIN, f"/refetch {job}", "Fetching")
        await h.tg.wait_for("sendVideo", lambda c: c.fields.get("chat_id") == BOB)
        await h.engine.drain()
    assert job in answer and len(h.comfy.prompts) == 1  # made once, fetched twice
