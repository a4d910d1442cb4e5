"""The fake Discord's user actions against the real discord.py 2.7 client: context menus,
modals with file uploads, persistent dynamic buttons, autocomplete, expired tokens."""

from __future__ import annotations

import asyncio
import io
import re
from typing import Any

import discord
import pytest
from discord import app_commands, ui

from fakes.discord_objects import CHANNEL_ID, EPHEMERAL, USER_ID
from fakes.discord_server import FakeDiscord
from tests.discord.conftest import Bot, running

OGG = b"OggS" + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)


class Portrait(ui.Modal, title="Talking video"):
    """Asks for a portrait (a file upload inside a label) and a prompt."""

    portrait: ui.Label[Any] = ui.Label(
        text="Portrait", component=ui.FileUpload(custom_id="portrait")
    )
    prompt: ui.Label[Any] = ui.Label(text="Prompt", component=ui.TextInput(custom_id="prompt"))

    def __init__(self, seen: dict[str, Any]) -> None:
        super().__init__()
        self.seen = seen

    async def on_submit(self, interaction: discord.Interaction) -> None:
        upload, text = self.portrait.component, self.prompt.component
        assert isinstance(upload, ui.FileUpload) and isinstance(text, ui.TextInput)
        self.seen.update(portrait=await upload.values[0].read(), prompt=text.value)
        await interaction.response.send_message("Queued.", ephemeral=True)


def talking_bot() -> Bot:
    bot = Bot()

    @bot.tree.context_menu(name="Talking video")
    async def talking(interaction: discord.Interaction, message: discord.Message) -> None:
        audio = message.attachments[0]
        replied = message.reference.resolved if message.reference else None
        bot.seen.update(
            voice=message.flags.voice,
            is_voice=audio.is_voice_message(),
            duration=audio.duration,
            audio=await audio.read(),
            photo=replied.attachments[0].filename if isinstance(replied, discord.Message) else None,
        )
        await interaction.response.send_modal(Portrait(bot.seen))

    return bot


async def test_a_context_menu_opens_a_modal_and_its_submission_arrives(fake: FakeDiscord) -> None:
    async with running(talking_bot()) as bot:
        await bot.tree.sync()
        photo = fake.user_message("look", [fake.attachment(PNG, "me.png")])
        voice = fake.voice_message(OGG, duration=3.5, reply_to=photo)
        opened = await fake.message_command("Talking video", voice)
        modal = (await fake.response_to(opened)).payload
        face = fake.attachment(PNG, "face.png")
        submitted = await fake.submit_modal(opened, {"portrait": [face], "prompt": "sing"})
        answer = await fake.response_to(submitted)
    assert bot.seen.pop("portrait") == PNG and bot.seen.pop("audio") == OGG
    assert bot.seen == {
        "voice": True,
        "is_voice": True,
        "duration": 3.5,
        "photo": "me.png",
        "prompt": "sing",
    }
    assert modal["type"] == 9 and modal["data"]["title"] == "Talking video"
    labels = modal["data"]["components"]
    assert [(c["type"], c["component"]["type"]) for c in labels] == [(18, 19), (18, 4)]
    assert answer.payload["type"] == 4 and answer.flags & EPHEMERAL


async def test_the_fake_refuses_what_a_user_could_not_submit(fake: FakeDiscord) -> None:
    async with running(talking_bot()) as bot:
        await bot.tree.sync()
        opened = await fake.message_command("Talking video", fake.voice_message(OGG))
        await fake.response_to(opened)
        with pytest.raises(ValueError, match=r"takes 1\.\.1 files"):
            await fake.submit_modal(opened, {"prompt": "no portrait"})
        with pytest.raises(KeyError, match="no fields"):
            await fake.submit_modal(opened, {"seed": "7"})
        with pytest.raises(LookupError, match="no command 'i2v'"):
            await fake.slash("i2v")
    assert len(fake.interactions) == 1  # none of the refused ones was dispatched


class Reroll(ui.DynamicItem[ui.Button[Any]], template=r"wan:reroll:(?P<job>\d+)"):
    """A persistent button whose custom id carries the job id."""

    def __init__(self, job: int) -> None:
        super().__init__(ui.Button(label="Reroll", custom_id=f"wan:reroll:{job}"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> Reroll:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        client = interaction.client
        assert isinstance(client, Bot)
        client.seen["reroll"] = (self.job, interaction.user.id)
        await interaction.response.edit_message(content=f"Rerolling job {self.job}.")


async def test_a_dynamic_button_works_after_a_restart(fake: FakeDiscord) -> None:
    async with running(Bot()) as first:
        channel = first.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        view = ui.View(timeout=None).add_item(Reroll(42))
        result = await channel.send("Here is your video.", view=view)
    second = Bot()
    second.add_dynamic_items(Reroll)
    async with running(second):
        with pytest.raises(KeyError, match="no component 'wan:reroll:7'"):
            await fake.click(result.id, "wan:reroll:7")
        click = await fake.click(result.id, "wan:reroll:42", user_id=USER_ID + 1)
        answer = await fake.response_to(click)
    assert second.seen == {"reroll": (42, USER_ID + 1)}
    assert answer.payload["type"] == 7 and answer.status == 200
    shown = fake.messages[result.id]
    assert shown["content"] == "Rerolling job 42."
    assert shown["components"][0]["components"][0]["custom_id"] == "wan:reroll:42"


async def test_autocomplete_answers_with_choices(fake: FakeDiscord) -> None:
    bot = Bot()

    @bot.tree.command(description="Image to video")
    async def i2v(interaction: discord.Interaction, prompt: str, scheduler: str = "unipc") -> None:
        raise AssertionError("not run here")

    @i2v.autocomplete("scheduler")
    async def schedulers(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = ("unipc", "dpm++", "euler")
        return [app_commands.Choice(name=n, value=n) for n in names if current in n]

    async with running(bot):
        await bot.tree.sync()
        typed = await fake.autocomplete("i2v", "scheduler", prompt="a cat", scheduler="u")
        answer = await fake.response_to(typed)
    choices = [{"name": "unipc", "value": "unipc"}, {"name": "euler", "value": "euler"}]
    assert answer.payload == {"type": 8, "data": {"choices": choices}}


async def test_a_followup_after_the_token_expired_is_refused(fake: FakeDiscord) -> None:
    bot = Bot()
    later = asyncio.Event()

    @bot.tree.command(description="Slow")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await later.wait()
        try:
            await interaction.followup.send("done")
        except discord.HTTPException as exc:
            bot.seen["refused"] = (exc.status, exc.code)

    async with running(bot):
        await bot.tree.sync()
        run = await fake.slash("slow")
        await fake.response_to(run)
        run.expired = True  # fifteen minutes later
        later.set()
        await fake.wait_for("create_followup_message")
    assert bot.seen == {"refused": (401, 50027)}


class Details(ui.DynamicItem[ui.Button[Any]], template=r"wan:details:(?P<job>\d+)"):
    """Defers the click (type 6), then edits the clicked message through `@original`."""

    def __init__(self, job: int) -> None:
        super().__init__(ui.Button(label="Details", custom_id=f"wan:details:{job}"))
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> Details:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        report = discord.File(io.BytesIO(b"steps=20"), "params.txt")
        await interaction.edit_original_response(content="Details below.", attachments=[report])
        original = await interaction.original_response()
        client = interaction.client
        assert isinstance(client, Bot)
        client.seen["original"] = original.id


async def test_files_travel_in_callbacks_and_webhook_edits(fake: FakeDiscord) -> None:
    bot = Bot()
    bot.add_dynamic_items(Details)

    @bot.tree.command(description="Answers with a file and a button")
    async def result(interaction: discord.Interaction) -> None:
        video = discord.File(io.BytesIO(b"\0\0\0\x18ftypmp42"), "result.mp4")
        view = ui.View(timeout=None).add_item(Details(7))
        await interaction.response.send_message("Done.", file=video, view=view)

    async with running(bot):
        await bot.tree.sync()
        run = await fake.slash("result")
        assert (await fake.response_to(run)).files[0].data == b"\0\0\0\x18ftypmp42"
        assert run.original is not None
        click = await fake.click(run.original, "wan:details:7")
        await fake.wait_for("get_original_interaction_response")
    assert (await fake.response_to(click)).payload == {"type": 6}
    shown = fake.messages[run.original]
    assert shown["content"] == "Details below." and bot.seen == {"original": run.original}
    assert [a["filename"] for a in shown["attachments"]] == ["params.txt"]
    edit = fake.of("edit_original_interaction_response")[0]
    assert edit.files[0].data == b"steps=20"
