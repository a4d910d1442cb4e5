"""Admin commands through the fake Discord: admins by id or by role; hosts, pause/resume,
drain, block, and cancelling anyone's job; everyone else is refused ephemerally."""

from __future__ import annotations

from typing import Any

from adapters.chat import texts as shared
from adapters.discord import texts
from fakes.discord_objects import EPHEMERAL, USER_ID
from fakes.discord_server import FakeDiscord
from fakes.media import png_bytes
from tests.discord.conftest import Harness, HarnessFactory, answer_to, is_video

BOB, ADMIN, MODERATOR = USER_ID + 1, USER_ID + 2, USER_ID + 3
MODS = 1100000000000000300


async def run(fake: FakeDiscord, command: str, by: int, **options: Any) -> dict[str, Any]:
    return await answer_to(fake, await fake.slash(command, user_id=by, **options))


async def i2v(h: Harness, user: int = BOB) -> dict[str, Any]:
    image = h.discord.attachment(png_bytes(320, 240), "in.png")
    return await run(h.discord, "i2v", user, image=image, prompt="a dog", steps=3)


async def test_admins_by_id_pause_drain_and_block_and_others_are_refused(
    harness: HarnessFactory,
) -> None:
    async with harness(queue={"admins": [f"discord:{ADMIN}"]}) as h:
        fake = h.discord
        refused = await run(fake, "hosts", BOB)
        assert refused["content"] == shared.ADMIN_ONLY and refused["flags"] & EPHEMERAL
        hosts = await run(fake, "hosts", ADMIN)
        assert hosts["content"].startswith("fake: up") and hosts["flags"] & EPHEMERAL

        assert "Host fake" in (await run(fake, "pause", ADMIN, host="fake"))["content"]
        assert "queued" in (await i2v(h))["content"]
        assert h.comfy.prompts == [] and "paused" in (await run(fake, "hosts", ADMIN))["content"]
        await run(fake, "resume", ADMIN, host="fake")
        await fake.wait_for("create_message", is_video)
        await h.engine.drain()

        draining = shared.draining(texts.MARKUP, now=True)
        assert (await run(fake, "drain", ADMIN))["content"] == draining
        assert "finishing its queue" in (await i2v(h))["content"]
        assert (await run(fake, "resume", ADMIN))["content"] == shared.UNDRAINED

        blocked = await run(fake, "block", ADMIN, user=BOB)
        assert blocked["content"] == shared.blocked(f"<@{BOB}>")
        assert "cannot use this bot" in (await i2v(h))["content"]
        await run(fake, "unblock", ADMIN, user=BOB)
        assert "queued" in (await i2v(h))["content"]
        await fake.wait_for("create_message", is_video, count=2)
        await h.engine.drain()
    assert len(h.comfy.prompts) == 2


async def test_a_member_of_an_admin_role_cancels_anyones_job(harness: HarnessFactory) -> None:
    async with harness(comfy={"hold": True}, roles={MODS: "mods"}, admin_roles=[MODS]) as h:
        fake = h.discord
        fake.member_roles[MODERATOR] = [MODS]
        answer = await i2v(h)
        job = answer["content"].split("`")[1]
        refused = await run(fake, "cancel", USER_ID, job=job)
        assert "someone else's" in refused["content"]
        cancelled = await run(fake, "cancel", MODERATOR, job=job)
        assert cancelled["content"] == shared.cancelled(job, texts.MARKUP)
        assert (await run(fake, "hosts", MODERATOR))["content"].startswith("fake: up")
        await h.engine.drain()
        # The owner's card says who ended the job: not they themselves.
        by_admin = shared.cancelled(job, texts.MARKUP, by_admin=True)
        await fake.wait_until(lambda: any(m["content"] == by_admin for m in fake.messages_in()))
