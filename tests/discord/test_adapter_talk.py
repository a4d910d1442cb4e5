"""/talk: a portrait and speech through the adapter and the real engine (InfiniteTalk)."""

from __future__ import annotations

import io
import wave

from bot.frontend import DEFAULT_PROMPTS, Mode
from fakes.media import png_bytes, wav_bytes
from tests.discord.conftest import Harness, HarnessFactory, answer_to, is_video


def assert_infinitetalk(h: Harness) -> None:
    (prompt,) = h.comfy.prompts
    assert "MultiTalkModelLoader" in {n["class_type"] for n in prompt.values()}
    (audio,) = [data for name, data in h.comfy.uploads.items() if name.endswith(".wav")]
    with wave.open(io.BytesIO(audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels()) == (16000, 1)


async def test_talk_with_a_portrait_and_speech(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        portrait = fake.attachment(png_bytes(480, 480), "me.png")
        speech = fake.attachment(wav_bytes(1.0), "speech.wav")
        run = await fake.slash("talk", image=portrait, audio=speech, steps=3)
        answer = await answer_to(fake, run)
        video = await fake.wait_for("create_message", is_video)
        await h.engine.drain()
    assert "queued" in answer["content"]
    assert_infinitetalk(h)
    assert DEFAULT_PROMPTS[Mode.INFINITETALK] in video.payload["content"]  # no prompt given
    assert [c.endpoint for c in fake.calls].count("download_attachment") == 2


async def test_talk_with_audio_that_is_not_speech_is_explained(harness: HarnessFactory) -> None:
    async with harness() as h:
        fake = h.discord
        portrait = fake.attachment(png_bytes(480, 480), "me.png")
        noise = fake.attachment(b"not audio at all", "speech.ogg")
        answer = await answer_to(
            fake, await fake.slash("talk", image=portrait, audio=noise, prompt="hello")
        )
    assert "audio" in answer["content"].lower() and "Traceback" not in answer["content"]
    assert h.comfy.prompts == []
