"""/queue, /cancel and the Cancel button, with two users sharing one held host."""

from __future__ import annotations

from typing import Any

from adapters.chat import texts as shared
from adapters.discord import texts
from fakes.discord_objects import EPHEMERAL, USER_ID
from fakes.discord_server import FakeDiscord
from fakes.media import png_bytes
from tests.discord.conftest import Harness, HarnessFactory, answer_to, buttons_of, is_video

ALICE, BOB = USER_ID, USER_ID + 1


async def submit(h: Harness, user: int, prompt: str) -> str:
    """Run /i2v as `user`; the new job's id once its card says it is accepted."""
    fake = h.discord
    image = fake.attachment(png_bytes(320, 240), "in.png")
    answer = await answer_to(
        fake, await fake.slash("i2v", image=image, prompt=prompt, user_id=user)
    )
    return str(answer["content"].split("`")[1])


async def card_says(fake: FakeDiscord, job: str, needle: str) -> None:
    def shown() -> bool:
        return any(job in m["content"] and needle in m["content"] for m in fake.messages_in())

    await fake.wait_until(shown)


async def queue_of(fake: FakeDiscord, user: int) -> dict[str, Any]:
    return await answer_to(fake, await fake.slash("queue", user_id=user))


async def test_each_user_sees_only_their_own_jobs_and_cancels_with_the_button(
    harness: HarnessFactory,
) -> None:
    async with harness(comfy={"hold": True}) as h:
        fake = h.discord
        alices = await submit(h, ALICE, "alice's cat")
        await card_says(fake, alices, "Generating")
        bobs = await submit(h, BOB, "bob's dog")
        await card_says(fake, bobs, "Queue position: 1")

        alice_view = await queue_of(fake, ALICE)
        bob_view = await queue_of(fake, BOB)
        assert alice_view["flags"] & EPHEMERAL and bob_view["flags"] & EPHEMERAL
        assert "alice's cat" in alice_view["content"] and "bob's dog" not in alice_view["content"]
        assert (
            "running" in alice_view["content"] and "1 waiting, 1 running" in alice_view["content"]
        )
        assert "bob's dog" in bob_view["content"] and "position 1" in bob_view["content"]
        assert buttons_of(alice_view) == [f"wanbot:cancel:{alices}"]

        # Bob cannot use Alice's Cancel button; Alice can.
        refused = await answer_to(
            fake, await fake.click(alice_view, f"wanbot:cancel:{alices}", user_id=BOB)
        )
        assert refused["content"] == shared.NOT_YOUR_JOB and h.comfy.interrupts == []
        click = await fake.click(alice_view, f"wanbot:cancel:{alices}", user_id=ALICE)
        updated = await answer_to(fake, click)
        assert updated["id"] == alice_view["id"]  # the queue message itself was updated
        assert f"`{alices}` cancelled" in updated["content"]
        assert shared.NO_JOBS in updated["content"]
        await card_says(fake, alices, "cancelled")
        await h.comfy.wait_until(lambda: bool(h.comfy.interrupts) or bool(h.comfy.deleted))

        # Bob's job starts on the freed host; /cancel without an id cancels his newest.
        await card_says(fake, bobs, "Generating")
        answer = await answer_to(fake, await fake.slash("cancel", user_id=BOB))
        assert answer["content"] == shared.cancelled(bobs, texts.MARKUP)
        await h.engine.drain()
        nothing = await answer_to(fake, await fake.slash("cancel", user_id=BOB, job=alices))
    assert (
        nothing["content"] == f"Job {alices} is someone else's; you can only cancel your own jobs."
    )
    assert nothing["flags"] & EPHEMERAL
    assert fake.of("create_message")[-1].files == []  # no video was sent


async def test_help_lists_the_options(harness: HarnessFactory) -> None:
    async with harness() as h:
        answer = await answer_to(h.discord, await h.discord.slash("help"))
    assert answer["flags"] & EPHEMERAL
    assert "/i2v" in answer["content"] and "`steps`" in answer["content"]
    assert "`negative`" in answer["content"] and "20 MB" in answer["content"]


async def test_settings_are_set_ephemerally_and_applied(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        shown = await answer_to(
            fake, await fake.slash("settings", values="steps 3 quality standard")
        )
        image = fake.attachment(png_bytes(320, 240), "in.png")
        await fake.slash("i2v", image=image, prompt="a cat")
        await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        cleared = await answer_to(fake, await fake.slash("settings", values="reset"))
    assert shown["flags"] & EPHEMERAL and "steps 3, quality standard" in shown["content"]
    assert "none" in cleared["content"]
    (prompt,) = h.comfy.prompts
    sampler = next(n for n in prompt.values() if n["class_type"] == "WanVideoSampler")
    assert sampler["inputs"]["steps"] == 3


async def test_quota_is_shown_ephemerally_and_a_refusal_says_when(harness: HarnessFactory) -> None:
    async with harness() as h:
        h.config.quotas.jobs_per_day = 1
        fake = h.discord
        image = fake.attachment(png_bytes(320, 240), "in.png")
        await fake.slash("i2v", image=image, prompt="a cat", steps=2)
        await fake.wait_for("create_message", is_video)
        await h.engine.drain()
        shown = await answer_to(fake, await fake.slash("quota"))
        again = fake.attachment(png_bytes(320, 240), "in.png")
        refused = await answer_to(fake, await fake.slash("i2v", image=again, prompt="a dog"))
    assert shown["flags"] & EPHEMERAL and "Jobs: 1 of 1 used, 0 left." in shown["content"]
    assert refused["flags"] & EPHEMERAL and "You can send more in" in refused["content"]
    assert len(h.comfy.prompts) == 1


async def test_a_long_setting_is_stored_and_echoed_short(harness: HarnessFactory) -> None:
    negative = "blurry," * 400  # one word of 2,800 characters: over a message
    async with harness() as h:
        fake = h.discord
        shown = await answer_to(
            fake, await fake.slash("settings", values=f"steps 3 neg {negative}")
        )
        stored = await h.engine.user_defaults.get(f"discord:{ALICE}")
    assert stored == {"steps": "3", "neg": negative}
    assert shown["content"].startswith("Your defaults: steps 3, neg blurry,blurry,")
    assert "…" in shown["content"] and len(shown["content"]) <= 2000
