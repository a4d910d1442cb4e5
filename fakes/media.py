"""Tiny real media files for tests: MP4 (H.264, optional AAC), PNG, WAV.

Encoding is blocking; call these from a thread (`asyncio.to_thread`) inside async code.
"""

from __future__ import annotations

import array
import io
import math
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image


@dataclass(frozen=True, slots=True)
class VideoInfo:
    frames: int
    width: int
    height: int
    fps: float
    has_audio: bool
    audio_codec: str | None


def mp4_bytes(
    *,
    width: int = 64,
    height: int = 48,
    frames: int = 8,
    fps: float = 16.0,
    audio: bool = False,
    sample_rate: int = 16000,
) -> bytes:
    """An H.264 MP4 with a moving gradient, plus an AAC track as long as the video if `audio`."""
    width, height = max(16, width - width % 2), max(16, height - height % 2)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        rate = Fraction(fps).limit_denominator(1000)
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "tune": "zerolatency"}
        audio_stream = container.add_stream("aac", rate=sample_rate) if audio else None
        for index in range(frames):
            frame = av.VideoFrame.from_image(_gradient(width, height, index))
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio_stream is not None:
            _write_tone(container, audio_stream, sample_rate, frames / float(fps))
    return buffer.getvalue()


def write_mp4(path: Path, **kwargs: object) -> Path:
    """`mp4_bytes(**kwargs)` written to `path`."""
    path.write_bytes(mp4_bytes(**kwargs))  # type: ignore[arg-type]
    return path


def probe(source: Path | bytes) -> VideoInfo:
    """Decode every video frame and report what the file really holds."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(handle) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        count = sum(1 for _ in container.decode(video=0))
        return VideoInfo(
            frames=count,
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=float(video.average_rate or 0),
            has_audio=audio is not None,
            audio_codec=audio.codec_context.name if audio is not None else None,
        )


def png_bytes(
    width: int = 32, height: int = 32, color: tuple[int, int, int] = (200, 80, 40)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def wav_bytes(seconds: float = 0.5, sample_rate: int = 16000) -> bytes:
    """A mono 16-bit sine tone."""
    samples = _tone(0, int(seconds * sample_rate), sample_rate)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def _gradient(width: int, height: int, index: int) -> Image.Image:
    """A frame that differs from its neighbours, so the encoder can't collapse them."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    shade = Image.new("RGB", (width, height), ((index * 24) % 256, 80, 160))
    return Image.blend(image, shade, 0.5)


def _tone(start: int, count: int, sample_rate: int) -> array.array[int]:
    return array.array(
        "h",
        (
            int(6000 * math.sin(2 * math.pi * 440 * n / sample_rate))
            for n in range(start, start + count)
        ),
    )


def _write_tone(
    container: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    sample_rate: int,
    seconds: float,
) -> None:
    codec = stream.codec_context
    frame_size = codec.frame_size or 1024
    total = max(frame_size, int(seconds * sample_rate))
    pts = 0
    while pts < total:
        frame = av.AudioFrame(format="s16", layout="mono", samples=frame_size)
        frame.planes[0].update(_tone(pts, frame_size, sample_rate).tobytes())
        frame.sample_rate, frame.pts = sample_rate, pts
        container.mux(stream.encode(frame))
        pts += frame_size
    container.mux(stream.encode(None))
