"""Limits under concurrency on Discord: a burst of /i2v, batches that arrive together, and
members of an admin role treated as admins everywhere."""

from __future__ import annotations

import asyncio
from typing import Any

from fakes.discord_objects import USER_ID
from fakes.discord_server import FakeDiscord
from fakes.media import png_bytes
from tests.discord.conftest import HarnessFactory, answer_to, buttons_of, is_video

BOB, MODERATOR = USER_ID + 1, USER_ID + 3
MODS = 1100000000000000300


async def burst(fake: FakeDiscord, count: int, **options: Any) -> list[str]:
    """`count` /i2v from one user at the same moment; what each was answered."""

    async def one(index: int) -> str:
        image = fake.attachment(png_bytes(1200 + index, 900), f"in{index}.png")
        run = await fake.slash("i2v", image=image, prompt="a dog", steps=2, **options)
        return str((await answer_to(fake, run))["content"])

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def test_a_burst_of_six_runs_one_job_and_refuses_five_saying_when(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        h.config.quotas.jobs_per_day = 2
        h.config.quotas.cooldown_seconds = 600
        answers = await burst(h.discord, 6)
        await h.discord.wait_for("create_message", is_video)
        await h.engine.drain()
    refused = [a for a in answers if a.startswith("Please wait")]
    assert len(refused) == 5 and all("10 min" in a for a in refused)
    assert len([a for a in answers if "queued" in a]) == 1 and len(h.comfy.prompts) == 1
    assert len(h.discord.of("download_attachment")) == 1  # the refused were never fetched


async def test_three_batches_at_once_queue_one_whole_batch(harness: HarnessFactory) -> None:
    async with harness(queue={"max_queued_per_user": 5}) as h:
        answers = await burst(h.discord, 3, batch=4)
        await h.discord.wait_for("create_message", is_video, count=4)
        await h.engine.drain()
    refused = [a for a in answers if "These 4 jobs do not fit" in a]
    assert len(refused) == 2 and len([a for a in answers if "queued" in a]) == 1
    assert len(h.comfy.prompts) == 4


async def test_a_member_of_an_admin_role_is_an_admin_for_rerolls_caps_and_quotas(
    harness: HarnessFactory,
) -> None:
    async with harness(
        comfy={"hold": True},
        queue={"max_queued_per_user": 1},
        roles={MODS: "mods"},
        admin_roles=[MODS],
    ) as h:
        fake = h.discord
        fake.member_roles[MODERATOR] = [MODS]
        h.config.quotas.jobs_per_day = 1
        h.comfy.hold = False
        image = fake.attachment(png_bytes(320, 240), "cat.png")
        await fake.slash("i2v", image=image, prompt="a cat", steps=2, user_id=BOB)
        first = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        video = fake.messages[int(first.response["id"])]
        reroll = buttons_of(video)[0]
        h.comfy.hold = True
        again = [
            await answer_to(fake, await fake.click(video, reroll, user_id=MODERATOR))
            for _ in range(3)
        ]
        quota = await answer_to(fake, await fake.slash("quota", user_id=MODERATOR))
        h.comfy.hold = False
        h.comfy.release()
        await fake.wait_for("create_message", is_video, count=4)
        await h.engine.drain()
    assert all("Rerolling as job" in a["content"] for a in again), again
    assert "admin" in quota["content"]
    assert len(h.comfy.prompts) == 4
