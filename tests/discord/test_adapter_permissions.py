"""Where the bot may not post: the card and the video go to a DM; with DMs closed too, the
video comes through the command's follow-up while its token is valid; the user is told why.
And the server allow-list."""

from __future__ import annotations

from typing import Any

from adapters.chat import texts as shared
from adapters.discord import texts
from fakes.discord_objects import CHANNEL_ID, EPHEMERAL, GUILD_ID, USER_ID
from fakes.discord_server import Call, FakeDiscord
from fakes.discord_state import Interaction
from fakes.media import png_bytes
from tests.discord.conftest import HarnessFactory, answer_to, is_video

ADMIN = USER_ID + 2


async def i2v(fake: FakeDiscord, user: int = USER_ID) -> tuple[Interaction, dict[str, Any]]:
    image = fake.attachment(png_bytes(320, 240), "in.png")
    run = await fake.slash("i2v", image=image, prompt="a cat", steps=3, user_id=user)
    return run, await answer_to(fake, run)


def sent_video(call: Call) -> bool:
    return is_video(call) and call.status == 200


def public(fake: FakeDiscord, channel_id: int = CHANNEL_ID) -> list[dict[str, Any]]:
    return [m for m in fake.messages_in(channel_id) if not int(m.get("flags") or 0) & EPHEMERAL]


async def test_without_permission_in_the_channel_the_card_and_video_go_to_a_dm(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        fake.denied_channels.add(CHANNEL_ID)
        _, answer = await i2v(fake)
        video = await fake.wait_for("create_message", sent_video)
        await h.engine.drain()
    dm = int(fake.dm_with(USER_ID)["id"])
    assert answer["flags"] & EPHEMERAL and texts.MOVED_TO_DM in answer["content"]
    assert "queued" in answer["content"]
    assert int(video.params["channel_id"]) == dm and public(fake) == []
    (card,) = [m for m in fake.messages_in(dm) if "done" in m["content"]]
    assert int(video.payload["message_reference"]["message_id"]) == int(card["id"])
    (archived,) = h.archived_videos()
    assert video.file(0) == archived.read_bytes()


async def test_with_dms_closed_too_the_video_comes_through_the_follow_up(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        fake.denied_channels.add(CHANNEL_ID)
        fake.closed_dms.add(USER_ID)
        _, answer = await i2v(fake)
        video = await fake.wait_for("create_followup_message", sent_video)
        await h.engine.drain()
        (archived,) = h.archived_videos()
    assert texts.NO_CARD in answer["content"]
    shown = fake.messages[int(video.response["id"])]
    assert shown["flags"] & EPHEMERAL and video.file(0) == archived.read_bytes()
    assert texts.NOT_IN_CHANNEL.format(channel=f"<#{CHANNEL_ID}>") in shown["content"]
    assert public(fake) == [] and fake.of("edit_message") == []


async def test_a_video_the_channel_refuses_goes_to_the_follow_up_then_to_a_dm(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        # The card is posted; then the bot loses the right to attach files, and the command's
        # token has expired by the time the video is ready.
        run, _ = await i2v(fake)
        fake.fail_next("create_message", 403, code=50013)
        run.expired = True
        video = await fake.wait_for("create_message", sent_video)
        await h.engine.drain()
    dm = int(fake.dm_with(USER_ID)["id"])
    refused = [c.status for c in fake.of("create_message") if is_video(c)]
    followups = [c.status for c in fake.of("create_followup_message") if is_video(c)]
    assert refused == [403, 200] and followups == [401]  # Invalid Webhook Token
    assert int(video.params["channel_id"]) == dm
    note = texts.NOT_IN_CHANNEL.format(channel=f"<#{CHANNEL_ID}>")
    assert note in video.payload["content"]
    done = [m for m in fake.messages_in() if "done" in m["content"]]
    assert len(done) == 1  # the card in the channel still shows the end
    assert "message_reference" not in video.payload  # the card is in another channel


async def test_outside_the_allowed_servers_only_admins_are_served(
    harness: HarnessFactory,
) -> None:
    async with harness(allowed_guilds=[GUILD_ID + 1], queue={"admins": [f"discord:{ADMIN}"]}) as h:
        fake = h.discord
        _, refused = await i2v(fake)
        _, admin = await i2v(fake, user=ADMIN)
        await fake.wait_for("create_message", sent_video)
        await h.engine.drain()
    assert refused["content"] == shared.NOT_ALLOWED and refused["flags"] & EPHEMERAL
    assert "queued" in admin["content"] and len(h.comfy.prompts) == 1
