"""The "Talking video" message menu: on a voice message through the modal's portrait upload,
and on a voice message replying to a photo (the modal asks only for the prompt)."""

from __future__ import annotations

from adapters.discord import texts
from bot.frontend import DEFAULT_PROMPTS, Mode
from fakes.discord_objects import EPHEMERAL
from fakes.media import png_bytes, wav_bytes
from tests.discord.conftest import HarnessFactory, answer_to, is_video

FILE_UPLOAD, TEXT_INPUT = 19, 4


async def test_on_a_voice_message_the_modal_asks_for_the_portrait(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        voice = fake.voice_message(wav_bytes(1.0), duration=1.0)
        opened = await fake.message_command("Talking video", voice)
        modal = (await fake.response_to(opened)).payload["data"]
        portrait = fake.attachment(png_bytes(480, 480), "me.png")
        answers = {"portrait": [portrait], "prompt": "a man singing"}
        submitted = await fake.submit_modal(opened, answers)
        answer = await answer_to(fake, submitted)
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    fields = [c["component"]["type"] for c in modal["components"]]
    assert modal["title"] == "Talking video" and fields == [FILE_UPLOAD, TEXT_INPUT]
    assert "queued" in answer["content"] and answer["flags"] & EPHEMERAL
    assert "a man singing" in video.payload["content"]
    (prompt,) = h.comfy.prompts
    assert "MultiTalkModelLoader" in {n["class_type"] for n in prompt.values()}


async def test_on_a_voice_message_replying_to_a_photo_only_the_prompt_is_asked(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        fake = h.discord
        photo = fake.user_message("me", [fake.attachment(png_bytes(480, 480), "me.png")])
        voice = fake.voice_message(wav_bytes(1.0), reply_to=photo)
        opened = await fake.message_command("Talking video", voice)
        modal = (await fake.response_to(opened)).payload["data"]
        submitted = await fake.submit_modal(opened, {})  # the prompt is optional
        await answer_to(fake, submitted)
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    assert [c["component"]["type"] for c in modal["components"]] == [TEXT_INPUT]
    assert DEFAULT_PROMPTS[Mode.INFINITETALK] in video.payload["content"]
    assert len(fake.of("download_attachment")) == 2  # the photo and the voice message


async def test_on_a_message_without_speech_it_says_what_to_do(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        photo = fake.user_message("me", [fake.attachment(png_bytes(480, 480), "me.png")])
        answer = await answer_to(fake, await fake.message_command("Talking video", photo))
    assert answer["content"] == texts.NO_SPEECH and answer["flags"] & EPHEMERAL
