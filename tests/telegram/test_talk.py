"""InfiniteTalk through the real bot: every way of pairing a portrait with speech."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable
from typing import Any

import pytest

from fakes.media import mp4_bytes, png_bytes, wav_bytes
from fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import Harness, HarnessFactory


def assert_infinitetalk(h: Harness) -> None:
    prompt = h.comfy.prompts[-1]
    nodes = prompt.get("prompt", prompt)
    classes = {n["class_type"] for n in nodes.values()}
    assert "MultiTalkModelLoader" in classes
    audio = [data for name, data in h.comfy.uploads.items() if name.endswith(".wav")]
    assert len(audio) == 1
    with wave.open(io.BytesIO(audio[0])) as wav:
        assert wav.getframerate() == 16000
        assert wav.getnchannels() == 1


def photo_replying_to_voice(tg: FakeTelegram) -> dict[str, Any]:
    voice = tg.make_message(voice=tg.voice(wav_bytes(1.0)))
    return tg.make_message(
        photo=tg.photo(png_bytes(480, 480), 480, 480),
        caption="/talk a woman talking --steps 3",
        reply_to=voice,
    )


def i2v_photo_replying_to_audio(tg: FakeTelegram) -> dict[str, Any]:
    audio = tg.make_message(audio=tg.audio(wav_bytes(1.0)))
    return tg.make_message(
        photo=tg.photo(png_bytes(480, 480), 480, 480),
        caption="/i2v a woman talking --steps 3",
        reply_to=audio,
    )


def voice_replying_to_photo(tg: FakeTelegram) -> dict[str, Any]:
    photo = tg.make_message(photo=tg.photo(png_bytes(480, 480), 480, 480))
    return tg.make_message(
        voice=tg.voice(wav_bytes(1.0)), caption="/talk a woman talking --steps 3", reply_to=photo
    )


@pytest.mark.parametrize(
    "build", [photo_replying_to_voice, i2v_photo_replying_to_audio, voice_replying_to_photo]
)
async def test_reply_pairs_portrait_and_speech(
    harness: HarnessFactory, build: Callable[[FakeTelegram], dict[str, Any]]
) -> None:
    async with harness() as h:
        message = build(h.tg)
        await h.tg.push(message=message)
        video = await h.tg.wait_for("sendVideo")
        assert video.fields["reply_parameters"]["message_id"] == message["message_id"]
        assert_infinitetalk(h)


async def test_talk_reply_to_audio_waits_for_the_photo(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        audio_doc = tg.make_message(
            document=tg.document(wav_bytes(1.0), "audio/x-wav", name="speech.wav")
        )
        await tg.send_message(text="/talk a man talking --steps 3", reply_to=audio_doc)
        await tg.wait_text("send the portrait photo")
        photo = await tg.send_message(photo=tg.photo(png_bytes(480, 480), 480, 480))
        video = await tg.wait_for("sendVideo")
        assert video.fields["reply_parameters"]["message_id"] == photo["message_id"]
        assert_infinitetalk(h)


async def test_talk_reply_to_something_that_is_not_audio(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        text = tg.make_message(text="hello there")
        sent = await tg.send_message(
            photo=tg.photo(png_bytes(480, 480), 480, 480), caption="/talk hi", reply_to=text
        )
        reply = await tg.wait_text("InfiniteTalk needs speech")
        assert reply.fields["reply_parameters"]["message_id"] == sent["message_id"]
        assert h.comfy.prompts == []


async def test_photo_replying_to_a_video_uses_its_sound_as_speech(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        clip = tg.make_message(video=tg.video(mp4_bytes(frames=16, fps=16, audio=True)))
        sent = await tg.send_message(
            photo=tg.photo(png_bytes(480, 480), 480, 480),
            caption="/talk a woman talking --steps 3",
            reply_to=clip,
        )
        video = await tg.wait_for("sendVideo")
        assert video.fields["reply_parameters"]["message_id"] == sent["message_id"]
        assert_infinitetalk(h)


async def test_talk_reply_to_a_video_note_waits_for_the_photo(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        note = tg.make_message(video_note=tg.video_note(mp4_bytes(frames=16, audio=True)))
        await tg.send_message(text="/talk --steps 3", reply_to=note)
        await tg.wait_text("send the portrait photo")
        await tg.send_message(photo=tg.photo(png_bytes(480, 480), 480, 480))
        await tg.wait_for("sendVideo")
        assert_infinitetalk(h)


async def test_a_silent_video_note_is_said_to_have_no_sound(harness: HarnessFactory) -> None:
    async with harness() as h:
        tg = h.tg
        note = tg.make_message(video_note=tg.video_note(mp4_bytes(frames=16, audio=False)))
        await tg.send_message(
            photo=tg.photo(png_bytes(480, 480), 480, 480), caption="/talk", reply_to=note
        )
        reply = await tg.wait_text("no sound")
    assert "not audio I can read" not in reply.fields["text"]
    assert h.comfy.prompts == []


@pytest.mark.parametrize(
    ("talk_wait", "said"), [(60.0, "within 1 min)"), (90.0, "within 1 min 30 s)")]
)
async def test_the_wait_for_the_photo_is_said_as_it_is(
    harness: HarnessFactory, talk_wait: float, said: str
) -> None:
    async with harness(talk_wait=talk_wait) as h:
        audio_doc = h.tg.make_message(
            document=h.tg.document(wav_bytes(1.0), "audio/x-wav", name="speech.wav")
        )
        await h.tg.send_message(text="/talk a man talking --steps 3", reply_to=audio_doc)
        reply = await h.tg.wait_text("send the portrait photo")
        assert said in reply.fields["text"]
