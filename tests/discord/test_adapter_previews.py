"""The job card on Discord while the GPU works: the newest preview as the embed's image (one
attachment, replaced by each new preview), at most one edit per interval, and a Stop button
for the owner and admins that cancels the job on ComfyUI at once."""

from __future__ import annotations

import itertools
from typing import Any

from adapters.chat import texts as shared
from adapters.discord import texts
from fakes.comfy_previews import preview_jpeg
from fakes.discord_objects import EPHEMERAL, USER_ID
from fakes.discord_server import Call, FakeDiscord
from fakes.media import png_bytes
from tests.discord.conftest import HarnessFactory, answer_to, buttons_of, is_video
from tests.factories import PREVIEWS_EVERY_STEP

BOB, ADMIN = USER_ID + 1, USER_ID + 2
INTERVAL = 0.3


async def card_of(fake: FakeDiscord, user_id: int = USER_ID, count: int = 1) -> int:
    """Run /i2v as `user_id`; the id of the card the bot posted for it."""
    image = fake.attachment(png_bytes(320, 240), "cat.png")
    await fake.slash("i2v", image=image, prompt="a cat", user_id=user_id)
    posted = await fake.wait_for("create_message", lambda c: not c.files, count=count)
    return int(posted.response["id"])


def edits_of(fake: FakeDiscord, card: int) -> list[Call]:
    return [c for c in fake.of("edit_message") if c.params["message_id"] == str(card)]


def stop_ids(payload: dict[str, Any]) -> list[str]:
    rows = payload.get("components") or []
    return [c["custom_id"] for row in rows for c in row["components"] if "stop" in c["custom_id"]]


async def test_the_card_shows_the_newest_preview_at_most_once_per_interval(
    harness: HarnessFactory,
) -> None:
    async with harness(**PREVIEWS_EVERY_STEP, edit_interval=INTERVAL) as h:
        card = await card_of(h.discord)
        await h.discord.wait_for("create_message", is_video)
        await h.engine.drain()
    edits = edits_of(h.discord, card)
    pictured = [c for c in edits if c.files]
    images = [c.file(0) for c in pictured]
    assert len(images) >= 2 and len(set(images)) == len(images)
    assert set(images) <= {preview_jpeg(step) for step in range(1, 9)}
    assert all(c.files[0].filename == "preview.jpg" for c in pictured)
    assert all(
        c.payload["embeds"][0]["image"]["url"] == "attachment://preview.jpg" for c in pictured
    )
    live = [c for c in edits if stop_ids(c.payload)]
    assert any("Generating" in c.payload["content"] for c in live)
    gaps = [b.at - a.at for a, b in itertools.pairwise(live)]
    assert all(gap >= INTERVAL - 0.01 for gap in gaps), gaps
    shown = h.discord.messages[card]
    # One attachment (the last preview), still the embed's image; done; no Stop button.
    (attachment,) = shown["attachments"]
    assert attachment["filename"] == "preview.jpg" and shown["embeds"]
    assert "done" in shown["content"] and buttons_of(shown) == []


async def test_stop_on_the_card_cancels_the_job_on_comfyui_for_its_owner_or_an_admin(
    harness: HarnessFactory,
) -> None:
    async with harness(comfy={"hold": True}, queue={"admins": [f"discord:{ADMIN}"]}) as h:
        fake = h.discord
        card = await card_of(fake)
        live = await fake.wait_for(
            "edit_message",
            lambda c: c.params["message_id"] == str(card) and "Generating" in c.payload["content"],
        )
        (stop,) = stop_ids(live.payload)
        job = stop.split(":")[2]
        refused = await answer_to(fake, await fake.click(card, stop, user_id=BOB))
        assert refused["content"] == shared.NOT_YOUR_JOB and h.comfy.interrupts == []
        answer = await answer_to(fake, await fake.click(card, stop))
        assert answer["flags"] & EPHEMERAL
        assert answer["content"] == shared.cancelled(job, texts.MARKUP)
        await fake.wait_until(lambda: "cancelled" in fake.messages[card]["content"])
        await h.engine.drain()
        stored = await h.store.get(job)
        # An admin stops another user's job.
        other = await card_of(fake, BOB, count=2)
        live = await fake.wait_for(
            "edit_message", lambda c: c.params["message_id"] == str(other) and stop_ids(c.payload)
        )
        await answer_to(fake, await fake.click(other, stop_ids(live.payload)[0], user_id=ADMIN))
        await fake.wait_until(lambda: "admin" in fake.messages[other]["content"])
        await h.engine.drain()
    assert stored is not None and h.comfy.interrupts[0] == stored.prompt_id
    assert buttons_of(fake.messages[card]) == [] and fake.of("create_message")[-1].files == []
