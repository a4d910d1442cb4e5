"""Generators of real media files for the media tests (Pillow images, PyAV audio and video)."""

from __future__ import annotations

import math
import os
import struct
import zlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from bot.config import Limits


def make_image(
    path: Path,
    size: tuple[int, int] = (640, 480),
    fmt: str = "PNG",
    mode: str = "RGB",
    orientation: int | None = None,
) -> Path:
    """A gradient image (left half red, right half blue) so crops and rotations are visible."""
    width, height = size
    alpha = mode == "RGBA"
    image = Image.new("RGBA" if alpha else "RGB", size, (255, 0, 0, 0) if alpha else "red")
    image.paste((0, 0, 255, 255) if alpha else "blue", (width // 2, 0, width, height))
    if mode not in ("RGB", "RGBA"):
        image = image.convert(mode)
    kwargs: dict[str, object] = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    image.save(path, format=fmt, **kwargs)
    return path


def make_png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height; the pixel data is never read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def make_audio(
    path: Path,
    seconds: float,
    codec: str = "pcm_s16le",
    rate: int = 48_000,
    amplitude: float = 0.5,
    layout: str = "stereo",
    fmt: str | None = None,
) -> Path:
    """A sine tone (440 Hz) encoded with `codec` into the container `path` names."""
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        for frame in tone_frames(seconds, rate, amplitude, layout):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_long_audio(path: Path, seconds: int, codec: str = "pcm_s16le", rate: int = 8_000) -> Path:
    """A mono 440 Hz tone of whole `seconds`, fast to make: one second of samples, repeated."""
    second = struct.pack(
        f"<{rate}h", *(round(16000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(rate))
    )
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        chunk = rate // 10
        for index in range(seconds * 10):
            frame = av.AudioFrame(format="s16", layout="mono", samples=chunk)
            offset = index % 10 * chunk * 2
            frame.planes[0].update(second[offset : offset + chunk * 2])
            frame.sample_rate, frame.pts, frame.time_base = rate, index * chunk, Fraction(1, rate)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def tone_frames(
    seconds: float, rate: int, amplitude: float, layout: str = "stereo", chunk: int = 1024
) -> Iterator[av.AudioFrame]:
    """s16 frames of a 440 Hz sine, `chunk` samples each."""
    channels = 2 if layout == "stereo" else 1
    total = round(seconds * rate)
    pts = 0
    while pts < total:
        n = min(chunk, total - pts)
        values = [
            round(amplitude * 32767 * math.sin(2 * math.pi * 440 * (pts + i) / rate))
            for i in range(n)
        ]
        data = struct.pack(f"<{n * channels}h", *(v for v in values for _ in range(channels)))
        frame = av.AudioFrame(format="s16", layout=layout, samples=n)
        frame.planes[0].update(data)
        frame.sample_rate = rate
        frame.pts = pts
        frame.time_base = Fraction(1, rate)
        yield frame
        pts += n


def noise_frames(size: tuple[int, int], count: int, seed: int = 1) -> list[Image.Image]:
    """`count` distinct noisy images: colour gradient plus Gaussian noise (hard to compress)."""
    frames = []
    for i in range(count):
        base = Image.linear_gradient("L").resize(size).convert("RGB")
        noise = Image.effect_noise(size, 80 + 5 * ((i + seed) % 7)).convert("RGB")
        tint = Image.new("RGB", size, ((40 * i) % 256, (90 * i) % 256, 128))
        frames.append(Image.blend(Image.blend(base, tint, 0.3), noise, 0.6))
    return frames


def make_video(
    path: Path,
    seconds: float,
    size: tuple[int, int] = (320, 240),
    fps: int = 16,
    audio: bool = True,
    noisy: bool = False,
    crf: int = 23,
) -> Path:
    """An H.264 MP4 with a moving bar (or noise) at `fps` and an optional AAC tone."""
    width, height = size
    count = round(seconds * fps)
    cycle = noise_frames(size, 6) if noisy else []
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"crf": str(crf), "preset": "ultrafast"}
        sound = out.add_stream("aac", rate=44_100, layout="stereo") if audio else None
        tones = tone_frames(seconds, 44_100, 0.3) if audio else iter(())
        audio_time = 0.0
        for i in range(count):
            if noisy:
                image = cycle[i % len(cycle)]
            else:
                image = Image.new("RGB", size, (20, 40, 60))
                x = (i * 7) % width
                image.paste((250, 200, 0), (x, 0, min(width, x + 16), height))
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            out.mux(video.encode(frame))
            while sound is not None and audio_time < (i + 1) / fps:
                tone = next(tones, None)
                if tone is None:
                    break
                audio_time += tone.samples / 44_100
                out.mux(sound.encode(tone))
        out.mux(video.encode(None))
        if sound is not None:
            for tone in tones:
                out.mux(sound.encode(tone))
            out.mux(sound.encode(None))
    return path


@pytest.fixture
def limits() -> Limits:
    return Limits(min_side=64, max_input_bytes=5 * 1024 * 1024, max_audio_seconds=3.0)


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.png"
    path.write_text("this is not an image\n" * 20)
    return path


@pytest.fixture
def random_file(tmp_path: Path) -> Path:
    path = tmp_path / "random.bin"
    path.write_bytes(os.urandom(4096))
    return path
