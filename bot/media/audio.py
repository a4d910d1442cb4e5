"""Turn a voice note or song into the 16 kHz mono 16-bit WAV the wav2vec encoder expects.

Anything FFmpeg decodes is accepted (WAV, MP3, M4A/AAC, OGG/Opus voice notes, even the sound
track of a video). Duration is measured from the decoded samples, not from container
metadata, which voice notes often lack or get wrong.
"""

from __future__ import annotations

import asyncio
import math
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

import av

from bot.config import Limits
from bot.errors import InputError
from bot.media.images import check_file_size
from bot.media.units import duration_text

SAMPLE_RATE = 16_000
# Peak below this fraction of full scale (about -54 dBFS) counts as silence: a muted
# microphone, not a quiet voice.
SILENCE_PEAK = 0.002
# When refusing or cutting, stop decoding this far past the limit: the rest is never used and a
# tiny-bitrate file under the byte limit could otherwise hold hours of sound.
DECODE_MARGIN = 10.0

NOT_AUDIO = (
    "That file is not audio I can read (MP3, WAV, M4A, OGG or a voice note). "
    "Please send a voice message or an audio file."
)

NO_SOUND = (
    "That video has no sound, so there is no speech to follow. Please send a video with "
    "sound, a voice message or an audio file."
)


@dataclass(frozen=True)
class PreparedAudio:
    """The WAV written for the workflow; durations in seconds.

    `source_is_lower_bound`: decoding stopped early and the file did not say how long it is,
    so the source lasted at least `source_duration`.
    """

    path: Path
    duration: float
    source_duration: float
    was_cut: bool
    source_is_lower_bound: bool = False

    def source_text(self) -> str:
        """How long the sound the user sent was, e.g. "10 min" or "over 1 min 10 s"."""
        length = duration_text(self.source_duration)
        return f"over {length}" if self.source_is_lower_bound else length


def cut_note(audio: PreparedAudio, limit: float) -> str:
    """The note on a job whose audio was cut to `limit` seconds."""
    return (
        f"audio cut to {duration_text(audio.duration)} (it was {audio.source_text()}; "
        f"the limit is {duration_text(limit)})."
    )


def frames_for_duration(duration: float, fps: float, max_frames: int | None = None) -> int:
    """The smallest 4n+1 frame count that covers `duration` seconds at `fps`.

    With `max_frames`, the result never exceeds the largest 4n+1 count within it.
    """
    needed = max(1, math.ceil(duration * fps - 1e-9))
    frames = math.ceil((needed - 1) / 4) * 4 + 1
    if max_frames is not None:
        frames = min(frames, max(1, (max_frames - 1) // 4 * 4 + 1))
    return frames


@dataclass
class _Decoded:
    pcm: bytearray
    samples: int  # decoded, at SAMPLE_RATE
    stopped: bool  # decoding ended early, at `stop_samples`
    declared: float | None  # the container's own duration in seconds, when it states one


def _declared_seconds(
    container: av.container.InputContainer, stream: av.AudioStream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _decode(src: Path, keep_samples: int, stop_samples: int) -> _Decoded:
    """Resampled s16 mono PCM (at most `keep_samples`) and what is known of the length."""
    try:
        container = av.open(str(src))
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(NOT_AUDIO) from exc
    with container:
        if not container.streams.audio:
            # A video (a round video note, a clip) without a sound track is readable, it
            # just has nothing to say: "not audio I can read" would send the user looking
            # for another format.
            raise InputError(NO_SOUND if _is_video(container) else NOT_AUDIO)
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        pcm = bytearray()
        total = 0
        stopped = False
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    total += out.samples
                    _keep(pcm, out, keep_samples)
                if total >= stop_samples:
                    stopped = True
                    break
            if not stopped:
                for out in resampler.resample(None):
                    total += out.samples
                    _keep(pcm, out, keep_samples)
        except av.FFmpegError as exc:
            raise InputError(
                "That audio file is damaged or cut short. Please send it again."
            ) from exc
        declared = _declared_seconds(container, stream)
    return _Decoded(pcm, total, stopped, declared)


def _is_video(container: av.container.InputContainer) -> bool:
    """Moving pictures: a still image (read as a one-picture "video") is not one."""
    is_image = container.format.name == "image2" or container.format.name.endswith("_pipe")
    return bool(container.streams.video) and not is_image


def _keep(pcm: bytearray, frame: av.AudioFrame, keep_samples: int) -> None:
    room = keep_samples * 2 - len(pcm)
    if room > 0:
        pcm += bytes(frame.planes[0])[: min(room, frame.samples * 2)]


def _peak(pcm: bytearray) -> float:
    samples = array("h")
    samples.frombytes(bytes(pcm))
    if not samples:
        return 0.0
    return max(max(samples), -min(samples)) / 32768


def _write_wav(dest: Path, pcm: bytearray) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(bytes(pcm))


def _source_length(decoded: _Decoded) -> tuple[float, bool]:
    """The source's length in seconds and whether that is only a lower bound.

    Past the limit decoding stops, so the container's own figure (when it states a longer one)
    tells how long the rest is; without one, what was decoded is a lower bound.
    """
    seconds = decoded.samples / SAMPLE_RATE
    if not decoded.stopped:
        return seconds, False
    if decoded.declared is not None and decoded.declared > seconds:
        return decoded.declared, False
    return seconds, True


def _prepare(src: Path, dest: Path, limits: Limits) -> PreparedAudio:
    check_file_size(src, limits.max_input_bytes, "audio file")
    limit = limits.max_audio_seconds
    keep = round(limit * SAMPLE_RATE)
    stop = round((limit + DECODE_MARGIN) * SAMPLE_RATE)
    decoded = _decode(src, keep, stop)
    if decoded.samples == 0:
        raise InputError("That audio file contains no sound (zero length). Please send another.")
    source, lower_bound = _source_length(decoded)
    pcm = decoded.pcm
    audio = PreparedAudio(
        dest, len(pcm) / 2 / SAMPLE_RATE, source, decoded.samples > keep, lower_bound
    )
    if audio.was_cut and limits.audio_over_limit == "refuse":
        raise InputError(
            f"That audio is {audio.source_text()} long; the limit is {duration_text(limit)}. "
            "Please send a shorter clip."
        )
    if _peak(pcm) < SILENCE_PEAK:
        raise InputError("That audio is silent. Please check your microphone and send it again.")
    _write_wav(dest, pcm)
    return audio


async def prepare_audio(src: Path, dest: Path, *, limits: Limits) -> PreparedAudio:
    """Decode `src` and write it to `dest` as 16 kHz mono s16 WAV.

    Audio longer than `limits.max_audio_seconds` is cut to the limit (`was_cut=True`) when
    `limits.audio_over_limit == "cut"`, else refused. Decoding stops `DECODE_MARGIN` seconds
    past the limit; the rest of `source_duration` then comes from the container's header, or
    it is a lower bound (`source_is_lower_bound`).
    Raises InputError for non-audio, no sound track, zero length, silence, or over the byte
    limit.
    """
    return await asyncio.to_thread(_prepare, src, dest, limits)
