"""Tiny real media files for tests: MP4 (H.264, optional AAC), PNG, WAV.

A video can carry a clip mark readable after H.264 encoding, decoding and re-encoding: every
frame's top half is a grey level for the number of the clip it belongs to (`clip`), its bottom
half eight black or white stripes for the frame's index in that clip (mod 256, high bit left).
Clip numbers show modulo 20 (`CLIP_NUMBERS`).
`clip_frames` and `clip_numbers` read the marks back, so a test can tell which clip, and which
frame of it, each frame of a joined video came from.

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
from PIL import Image, ImageStat

# Clip marks: clip n is grey level CLIP_GREY + CLIP_STEP * (n % CLIP_NUMBERS); H.264 keeps a
# flat grey within about 1 level, far inside half a step.
CLIP_GREY, CLIP_STEP, CLIP_NUMBERS = 18, 12, 20
INDEX_BITS = 8


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
    clip: int | None = None,
) -> bytes:
    """An H.264 MP4 with a moving gradient (or, with `clip`, that clip's marks on every frame),
    plus an AAC track as long as the video if `audio`."""
    width, height = max(16, width - width % 2), max(16, height - height % 2)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        rate = Fraction(fps).limit_denominator(1000)
        video = container.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "tune": "zerolatency"}
        audio_stream = container.add_stream("aac", rate=sample_rate) if audio else None
        for index in range(frames):
            picture = (
                _gradient(width, height, index)
                if clip is None
                else _clip_frame(width, height, clip, index)
            )
            frame = av.VideoFrame.from_image(picture)
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


def clip_frames(source: Path | bytes) -> list[tuple[int, int]]:
    """(clip number, index in that clip) of every frame of a video made with `clip` marks."""
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with av.open(handle) as container:
        return [_read_mark(frame.to_image()) for frame in container.decode(video=0)]


def clip_numbers(source: Path | bytes) -> list[int]:
    """The clip number every frame of a video made with `clip` marks shows, in order."""
    return [clip for clip, _ in clip_frames(source)]


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


def _clip_level(clip: int) -> int:
    return CLIP_GREY + CLIP_STEP * (clip % CLIP_NUMBERS)


def _clip_frame(width: int, height: int, clip: int, index: int) -> Image.Image:
    """Flat areas far apart in brightness: H.264 keeps them within a few levels."""
    image = Image.new("L", (width, height), _clip_level(clip))
    middle = height // 2
    for bit in range(INDEX_BITS):
        left, right = _stripe(width, bit)
        shade = 255 if index >> (INDEX_BITS - 1 - bit) & 1 else 0
        image.paste(shade, (left, middle, right, height))
    return image.convert("RGB")


def _read_mark(picture: Image.Image) -> tuple[int, int]:
    grey = picture.convert("L")
    width, height = grey.size
    middle, margin = height // 2, max(1, height // 8)
    top = grey.crop((width // 8, margin, width - width // 8, middle - margin))
    level = ImageStat.Stat(top).mean[0]
    clip = min(CLIP_NUMBERS - 1, max(0, round((level - CLIP_GREY) / CLIP_STEP)))
    index = 0
    for bit in range(INDEX_BITS):
        left, right = _stripe(width, bit)
        inset = (right - left) // 4
        box = (left + inset, middle + margin, max(left + inset + 1, right - inset), height - margin)
        index = index << 1 | (ImageStat.Stat(grey.crop(box)).mean[0] > 127)
    return clip, index


def _stripe(width: int, bit: int) -> tuple[int, int]:
    return width * bit // INDEX_BITS, width * (bit + 1) // INDEX_BITS


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
