from __future__ import annotations

import wave
from pathlib import Path

import av
import pytest

from bot.config import Limits
from bot.errors import InputError
from bot.media.audio import PreparedAudio, cut_note, frames_for_duration, prepare_audio
from tests.media.conftest import make_audio, make_long_audio, make_video


def _wav_info(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        return wav.getnchannels(), wav.getsampwidth(), rate, wav.getnframes() / rate


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except av.FFmpegError:
        return False
    return True


async def test_voice_note_ogg_opus(tmp_path: Path, limits: Limits) -> None:
    src = make_audio(tmp_path / "voice.ogg", 2.3, "libopus", 48_000, layout="mono")
    result = await prepare_audio(src, tmp_path / "out.wav", limits=limits)
    channels, width, rate, seconds = _wav_info(result.path)
    assert (channels, width, rate) == (1, 2, 16_000)
    assert result.duration == pytest.approx(2.3, abs=0.05)
    assert seconds == pytest.approx(result.duration, abs=1e-6)
    assert not result.was_cut


@pytest.mark.parametrize(
    ("name", "codec", "rate"),
    [
        ("tone.wav", "pcm_s16le", 44_100),
        ("tone.mp3", "libmp3lame", 44_100),
        ("tone.m4a", "aac", 48_000),
    ],
)
async def test_common_formats(
    tmp_path: Path, limits: Limits, name: str, codec: str, rate: int
) -> None:
    if not _has_encoder(codec):
        pytest.skip(f"this PyAV build has no {codec} encoder")
    src = make_audio(tmp_path / name, 1.5, codec, rate)
    result = await prepare_audio(src, tmp_path / "out.wav", limits=limits)
    assert _wav_info(result.path)[:3] == (1, 2, 16_000)
    # Lossy encoders add up to a frame of priming samples.
    assert result.duration == pytest.approx(1.5, abs=0.06)


async def test_sound_track_of_a_video(tmp_path: Path, limits: Limits) -> None:
    src = make_video(tmp_path / "clip.mp4", 1.0)
    result = await prepare_audio(src, tmp_path / "out.wav", limits=limits)
    assert result.duration == pytest.approx(1.0, abs=0.06)


async def test_long_audio_is_cut(tmp_path: Path, limits: Limits) -> None:
    src = make_audio(tmp_path / "long.wav", 5.0, rate=16_000, layout="mono")
    result = await prepare_audio(src, tmp_path / "out.wav", limits=limits)
    assert result.was_cut
    assert result.duration == pytest.approx(3.0, abs=1e-3)
    assert result.source_duration == pytest.approx(5.0, abs=0.01)
    assert _wav_info(result.path)[3] == pytest.approx(3.0, abs=1e-3)


async def test_long_audio_is_refused(tmp_path: Path, limits: Limits) -> None:
    src = make_audio(tmp_path / "long.wav", 5.0, rate=16_000, layout="mono")
    refuse = limits.model_copy(update={"audio_over_limit": "refuse"})
    with pytest.raises(InputError, match=r"5 s long; the limit is 3 s\."):
        await prepare_audio(src, tmp_path / "out.wav", limits=refuse)
    assert not (tmp_path / "out.wav").exists()


async def test_rejects_text_file(tmp_path: Path, limits: Limits, text_file: Path) -> None:
    with pytest.raises(InputError, match="not audio I can read"):
        await prepare_audio(text_file, tmp_path / "out.wav", limits=limits)


async def test_rejects_image(tmp_path: Path, limits: Limits) -> None:
    from tests.media.conftest import make_image

    src = make_image(tmp_path / "photo.jpg", (200, 200), "JPEG")
    with pytest.raises(InputError, match="not audio I can read"):
        await prepare_audio(src, tmp_path / "out.wav", limits=limits)


async def test_rejects_silence(tmp_path: Path, limits: Limits) -> None:
    src = make_audio(tmp_path / "quiet.wav", 1.0, amplitude=0.0)
    with pytest.raises(InputError, match="silent"):
        await prepare_audio(src, tmp_path / "out.wav", limits=limits)


async def test_rejects_zero_length(tmp_path: Path, limits: Limits) -> None:
    src = tmp_path / "nothing.wav"
    with wave.open(str(src), "wb") as wav:  # a valid WAV header with no samples
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(b"")
    with pytest.raises(InputError, match="zero length"):
        await prepare_audio(src, tmp_path / "out.wav", limits=limits)


async def test_rejects_empty_file(tmp_path: Path, limits: Limits) -> None:
    src = tmp_path / "empty.ogg"
    src.touch()
    with pytest.raises(InputError, match="empty"):
        await prepare_audio(src, tmp_path / "out.wav", limits=limits)


async def test_rejects_over_byte_limit(tmp_path: Path) -> None:
    src = make_audio(tmp_path / "big.wav", 1.0)
    with pytest.raises(InputError, match="too large"):
        await prepare_audio(src, tmp_path / "out.wav", limits=Limits(max_input_bytes=1024))


@pytest.mark.parametrize(
    ("duration", "fps", "max_frames", "expected"),
    [
        (5.0, 16, None, 81),
        (5.07, 16, None, 85),
        (1 / 16, 16, None, 1),
        (0.0, 25, None, 1),
        (3.0, 25, None, 77),
        (60.0, 25, 161, 161),
        (60.0, 25, 163, 161),
    ],
)
def test_frames_for_duration(
    duration: float, fps: float, max_frames: int | None, expected: int
) -> None:
    frames = frames_for_duration(duration, fps, max_frames)
    assert frames == expected
    assert frames % 4 == 1


# A 10-minute clip against the default 60 s limit: decoding stops at 70 s, and the texts used
# to say "it was 70 s".
TEN_MINUTES = Limits(max_input_bytes=20 * 1024 * 1024)


async def test_cut_note_states_the_real_length_of_a_ten_minute_clip(tmp_path: Path) -> None:
    src = make_long_audio(tmp_path / "talk.wav", 600)
    result = await prepare_audio(src, tmp_path / "out.wav", limits=TEN_MINUTES)
    assert result.was_cut
    assert result.source_duration == pytest.approx(600, abs=0.01)
    assert not result.source_is_lower_bound
    note = cut_note(result, TEN_MINUTES.max_audio_seconds)
    assert note == "audio cut to 1 min (it was 10 min; the limit is 1 min)."


async def test_refusal_states_the_real_length_of_a_ten_minute_clip(tmp_path: Path) -> None:
    src = make_long_audio(tmp_path / "talk.wav", 600)
    refuse = TEN_MINUTES.model_copy(update={"audio_over_limit": "refuse"})
    with pytest.raises(InputError, match=r"^That audio is 10 min long; the limit is 1 min\."):
        await prepare_audio(src, tmp_path / "out.wav", limits=refuse)


async def test_voice_note_length_comes_from_the_ogg_past_the_decoded_part(
    tmp_path: Path, limits: Limits
) -> None:
    src = make_long_audio(tmp_path / "voice.ogg", 70, "libopus", 16_000)
    result = await prepare_audio(src, tmp_path / "out.wav", limits=limits)
    # Decoding stopped at 3 + 10 s; Opus adds a few ms of priming.
    assert result.source_duration == pytest.approx(70, abs=0.1)
    assert cut_note(result, limits.max_audio_seconds) == (
        "audio cut to 3 s (it was 1 min 10 s; the limit is 3 s)."
    )


def test_cut_note_without_a_stated_length_says_over(tmp_path: Path) -> None:
    audio = PreparedAudio(tmp_path / "a.wav", 60.0, 70.0, True, source_is_lower_bound=True)
    assert cut_note(audio, 60) == "audio cut to 1 min (it was over 1 min 10 s; the limit is 1 min)."


async def test_a_video_without_sound_is_said_to_have_none(tmp_path: Path, limits: Limits) -> None:
    from fakes.media import mp4_bytes

    src = tmp_path / "note.mp4"
    src.write_bytes(mp4_bytes(frames=16, audio=False))
    with pytest.raises(InputError, match="That video has no sound"):
        await prepare_audio(src, tmp_path / "out.wav", limits=limits)
