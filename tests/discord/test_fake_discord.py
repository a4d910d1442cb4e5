"""The fake Discord against the real discord.py 2.7 client: connection, commands, messages, errors.

Each test drives a real `discord.Client` with a `CommandTree` through the fake and asserts what
the fake recorded, so a fake that stops speaking Discord's wire format fails here first.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from fakes.discord_objects import BOT_ID, CHANNEL_ID, EPHEMERAL, GUILD_ID, LOADING, USER_ID
from fakes.discord_server import APP_ID, FakeDiscord
from tests.discord.conftest import Bot, running

ARTISTS = 1100000000000000300
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def i2v_bot() -> Bot:
    """A bot with `/i2v image prompt [steps]` that defers, downloads, posts a card and edits it."""
    bot = Bot()

    @bot.tree.command(description="Image to video")
    async def i2v(
        interaction: discord.Interaction,
        image: discord.Attachment,
        prompt: str,
        steps: app_commands.Range[int, 1, 60] = 20,
    ) -> None:
        await interaction.response.defer(thinking=True)
        data = await image.read()
        bot.seen.update(limit=interaction.filesize_limit, size=image.size, steps=steps)
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)
        card = await channel.send(
            f"queued: {prompt}", file=discord.File(io.BytesIO(data), "in.png")
        )
        await card.edit(content=f"running: {prompt}")
        await interaction.followup.send("Your job is queued.")

    return bot


async def test_connects_over_zlib_stream_and_gets_ready(fake: FakeDiscord) -> None:
    async with running(Bot()) as bot:
        assert bot.user is not None and bot.user.id == BOT_ID
        assert bot.application_id == APP_ID
        assert math.isfinite(bot.latency)  # its first heartbeat was acknowledged
        channel = bot.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel) and channel.guild.id == GUILD_ID
    identify = [f for f in fake.gateway.received if f["op"] == 2]
    assert [f["d"]["token"] for f in identify] == [fake.token]
    assert identify[0]["d"]["intents"] == discord.Intents.default().value
    (connection,) = fake.gateway.connections
    assert connection.compress == "zlib-stream" and connection.compressed >= 3  # HELLO, READY, ...
    assert [c.endpoint for c in fake.calls] == ["get_current_user", "get_current_application"]
    # Closed by the client and not reopened (discord.py sends 4000 when a read is pending).
    assert len(fake.gateway.close_codes) == 1
    assert all(c.ws.closed for c in fake.gateway.connections)


async def test_a_wrong_token_is_refused_at_login(fake: FakeDiscord) -> None:
    bot = Bot()
    with pytest.raises(discord.LoginFailure):
        await bot.start("not-the-token")
    await bot.close()
    assert [c.status for c in fake.calls] == [401]


async def test_syncing_the_tree_records_the_registered_options(fake: FakeDiscord) -> None:
    bot = i2v_bot()

    @bot.tree.context_menu(name="Talking video")
    async def talking(interaction: discord.Interaction, message: discord.Message) -> None:
        raise AssertionError("not run here")

    async with running(bot):
        synced = await bot.tree.sync()
        guild = discord.Object(GUILD_ID)
        bot.tree.copy_global_to(guild=guild)
        await bot.tree.sync(guild=guild)
    assert {c.name for c in synced} == {"i2v", "Talking video"}
    assert {c.id for c in synced} == {int(c["id"]) for c in fake.commands[None]}
    i2v = fake.command("i2v")
    assert i2v["guild_id"] == str(GUILD_ID)
    options = [
        {k: o[k] for k in ("name", "type", "required", "min_value", "max_value") if k in o}
        for o in i2v["options"]
    ]
    assert options == [
        {"name": "image", "type": 11, "required": True},
        {"name": "prompt", "type": 3, "required": True},
        {"name": "steps", "type": 4, "required": False, "min_value": 1, "max_value": 60},
    ]
    assert fake.command("Talking video", kind=3)["type"] == 3


async def test_a_slash_command_defers_downloads_posts_a_card_and_edits_it(
    fake: FakeDiscord,
) -> None:
    async with running(i2v_bot()) as bot:
        await bot.tree.sync()
        image = fake.attachment(PNG, "face.png")
        done = await fake.slash("i2v", image=image, prompt="a cat", steps=30)
        await fake.wait_for("create_followup_message")
    order = [c.endpoint for c in fake.calls if c.endpoint != "bulk_overwrite_global_commands"]
    assert order[2:] == [
        "create_interaction_response",
        "download_attachment",
        "create_message",
        "edit_message",
        "create_followup_message",
    ]
    assert (await fake.response_to(done)).payload == {"type": 5}
    assert bot.seen == {"limit": 10 * 1024 * 1024, "size": len(PNG), "steps": 30}
    card = fake.messages[int(fake.of("create_message")[0].response["id"])]
    assert card["content"] == "running: a cat" and card["edited_timestamp"]
    assert fake.of("create_message")[0].file(0) == PNG
    assert [a["filename"] for a in card["attachments"]] == ["in.png"]  # kept by the edit
    answer = fake.messages[done.original or 0]  # the follow-up replaced the loading message
    assert answer["content"] == "Your job is queued." and not answer["flags"] & LOADING


async def test_a_429_on_an_edit_is_retried_after_retry_after(fake: FakeDiscord) -> None:
    async with running(Bot()) as bot:
        channel = bot.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        card = await channel.send("queued")
        fake.fail_next("edit_message", 429, retry_after=0.01)
        await card.edit(content="running 50%")
    edits = fake.of("edit_message")
    assert [c.status for c in edits] == [429, 200]
    assert edits[0].response["retry_after"] == 0.01
    assert fake.messages[card.id]["content"] == "running 50%"


async def _send_file(fake: FakeDiscord, bot: discord.Client, size: int = 10) -> Any:
    channel = bot.get_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    return await channel.send(file=discord.File(io.BytesIO(b"\0" * size), "out.mp4"))


async def _to_a_denied_channel(fake: FakeDiscord, bot: discord.Client) -> None:
    fake.denied_channels.add(CHANNEL_ID)
    await _send_file(fake, bot)


async def _over_the_upload_limit(fake: FakeDiscord, bot: discord.Client) -> None:
    fake.upload_limit = 1000
    await _send_file(fake, bot, 1001)


async def _edit_a_deleted_message(fake: FakeDiscord, bot: discord.Client) -> None:
    card = await _send_file(fake, bot)
    await card.delete()
    await card.edit(content="gone")


async def _to_closed_dms(fake: FakeDiscord, bot: discord.Client) -> None:
    fake.closed_dms.add(USER_ID)
    dm = await (await bot.fetch_user(USER_ID)).create_dm()
    await dm.send("your video")


async def _read_an_expired_link(fake: FakeDiscord, bot: discord.Client) -> None:
    picture = discord.Attachment(data=fake.attachment(PNG, "a.png"), state=bot._connection)  # type: ignore[arg-type]
    fake.cdn_expired = True
    await picture.read()


@pytest.mark.parametrize(
    ("attempt", "status", "code"),
    [
        (_to_a_denied_channel, 403, 50013),
        (_over_the_upload_limit, 413, 40005),
        (_edit_a_deleted_message, 404, 10008),
        (_to_closed_dms, 403, 50007),
        (_read_an_expired_link, 404, 0),
    ],
)
async def test_errors_come_in_discord_shape(
    fake: FakeDiscord, attempt: Callable[..., Awaitable[None]], status: int, code: int
) -> None:
    async with running(Bot()) as bot:
        with pytest.raises(discord.HTTPException) as caught:
            await attempt(fake, bot)
    assert (caught.value.status, caught.value.code) == (status, code)


async def test_a_public_defer_makes_the_first_followup_public(fake: FakeDiscord) -> None:
    bot = Bot()

    @bot.tree.command(description="Fails politely")
    async def fail(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.followup.send("first", ephemeral=True)
        await interaction.followup.send("second", ephemeral=True)

    async with running(bot):
        await bot.tree.sync()
        run = await fake.slash("fail")
        await fake.wait_for("create_followup_message", count=2)
    first, second = (
        fake.messages[int(c.response["id"])] for c in fake.of("create_followup_message")
    )
    assert int(first["id"]) == run.original  # it edited the "thinking" message ...
    assert first["content"] == "first" and not first["flags"] & EPHEMERAL  # ... which is public
    assert second["flags"] & EPHEMERAL


async def test_a_reconnect_resumes_the_session_and_events_still_arrive(fake: FakeDiscord) -> None:
    async with running(i2v_bot()) as bot:
        await bot.tree.sync()
        await fake.gateway.reconnect()
        await fake.wait_until(lambda: any(f["op"] == 6 for f in fake.gateway.received))
        await fake.slash("i2v", image=fake.attachment(PNG, "a.png"), prompt="again")
        await fake.wait_for("create_followup_message")
    resume = next(f for f in fake.gateway.received if f["op"] == 6)
    (session,) = fake.gateway.sessions
    assert resume["d"]["session_id"] == session.session_id and session.resumed == 1
    assert len(fake.gateway.connections) == 2


async def test_interactions_say_who_asks_and_where(fake: FakeDiscord) -> None:
    fake.roles[ARTISTS] = "artists"
    fake.member_roles[USER_ID] = [ARTISTS]
    bot = Bot()
    asked: list[tuple[int, list[str], int | None, str]] = []

    @bot.tree.command(description="Who is asking")
    async def whoami(interaction: discord.Interaction) -> None:
        who = interaction.user
        roles = [r.name for r in who.roles[1:]] if isinstance(who, discord.Member) else []
        asked.append((who.id, roles, interaction.guild_id, type(interaction.channel).__name__))
        await interaction.response.send_message("noted", ephemeral=True)

    async with running(bot):
        await bot.tree.sync()
        await fake.response_to(await fake.slash("whoami"))
        dm = fake.dm_with(USER_ID + 1)
        await fake.response_to(
            await fake.slash("whoami", user_id=USER_ID + 1, channel_id=int(dm["id"]))
        )
    assert asked == [
        (USER_ID, ["artists"], GUILD_ID, "TextChannel"),
        (USER_ID + 1, [], None, "DMChannel"),
    ]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("v=10&encoding=json&compress=zstd-stream", 4000),  # not spoken: refused, loudly
        ("v=9&encoding=json", 4012),
        ("v=10&encoding=etf", 4012),
    ],
)
async def test_the_gateway_refuses_what_it_does_not_speak(
    fake: FakeDiscord, query: str, code: int
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{fake.gateway_url}?{query}") as ws,
    ):
        closing = await ws.receive()
    assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, code)


async def test_an_auto_sharded_client_finds_the_gateway_through_gateway_bot(
    fake: FakeDiscord,
) -> None:
    client = discord.AutoShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0)
    ready = asyncio.Event()
    client.event(ready_handler(ready))
    task = asyncio.create_task(client.start(fake.token))
    try:
        async with asyncio.timeout(20):
            await ready.wait()
    finally:
        await client.close()
        await task
    assert [c.endpoint for c in fake.calls][-1] == "get_gateway_bot"
    assert fake.gateway.sessions[0].identify["shard"] == [0, 1]


def ready_handler(ready: asyncio.Event) -> Callable[[], Coroutine[Any, Any, None]]:
    async def on_ready() -> None:
        ready.set()

    return on_ready
