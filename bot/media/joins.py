"""Extending a video: its last frame (where the next clip starts) and the two clips as one.

The continuation starts on the original's last frame, so its own first frame repeats it and is
dropped when joining. The joined video is encoded once (H.264, the original's size and frame
rate); a fitted copy for a chat is made from it later like any result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av

from bot.errors import InputError
from bot.media.video import PRESET, VideoInfo, _probe, open_video

NO_FRAMES = "That video has no frames I can read, so it cannot be extended."
QUALITY = "18"  # x264 CRF: visually lossless for the archive; fitting for chats comes later


def _frames(path: Path) -> Iterator[av.VideoFrame]:
    with open_video(path, NO_FRAMES) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        yield from container.decode(stream)


def _last_frame(src: Path, dest: Path) -> Path:
    last = None
    for frame in _frames(src):
        last = frame
    if last is None:
        raise InputError(NO_FRAMES)
    dest.parent.mkdir(parents=True, exist_ok=True)
    last.to_image().save(dest, format="PNG")  # type: ignore[no-untyped-call]
    return dest


async def last_frame(src: Path, dest: Path) -> Path:
    """The last frame of the video `src`, as a PNG at `dest`."""
    return await asyncio.to_thread(_last_frame, src, dest)


def _join(first: Path, second: Path, dest: Path) -> VideoInfo:
    info = _probe(first)
    rate = Fraction(info.fps).limit_denominator(1001) if info.fps > 0 else Fraction(16)
    partial = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video = out.add_stream("libx264", rate=rate)
            video.width, video.height, video.pix_fmt = info.width, info.height, "yuv420p"
            video.options = {"preset": PRESET, "crf": QUALITY}
            video.codec_context.thread_count = 0
            count, repeated = 0, True
            for clip, frame in _both(first, second):
                if clip == 1 and repeated:
                    repeated = False  # the continuation's first frame repeats the original's last
                    continue
                picture = frame.reformat(info.width, info.height, "yuv420p")
                picture.pts, picture.time_base = count, 1 / rate
                count += 1
                out.mux(video.encode(picture))
            out.mux(video.encode(None))
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return _probe(dest)


def _both(first: Path, second: Path) -> Iterator[tuple[int, av.VideoFrame]]:
    for clip, path in enumerate((first, second)):
        for frame in _frames(path):
            yield clip, frame


async def join_videos(first: Path, second: Path, dest: Path) -> VideoInfo:
    """`first` then `second` (without its first frame) as one H.264 MP4 at `dest`."""
    return await asyncio.to_thread(_join, first, second, dest)
