"""Finished videos: probe them, make a thumbnail, and fit them under a chat's upload limit.

`fit_video` re-encodes with libx264 (its fastest preset, all cores) at a bitrate computed from the
duration and the byte budget, stepping the resolution down when that bitrate is too thin for
the picture, and verifies the result. `plan_delivery` turns that into what the front end does:
send the file, send a link, or name the archived file.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av

from bot.errors import InputError
from bot.media.units import duration_text, size_text

# Share of the byte budget kept free for the MP4 container and rate-control error.
HEADROOM = 0.07
AUDIO_BITRATE = 96_000
MIN_AUDIO_BITRATE = 32_000
# Bits per pixel per frame below which H.264 at a fast preset turns to mush; below it the
# resolution steps down. At the smallest rung a thinner picture is accepted, down to FLOOR_BPP.
MIN_BPP = 0.05
FLOOR_BPP = 0.015
MIN_VIDEO_BITRATE = 64_000
# Short sides tried when stepping down; the last one is the floor.
RUNGS = (1080, 720, 576, 480, 360, 240)
ATTEMPTS = 3
# x264's fastest preset: on a 60 s 25 fps 832x480 clip (`bench.fit_video`) it encodes in
# about 2/3 of veryfast's time with under a third of its memory, for about 1 dB less PSNR at
# these bitrates (45 dB, far above visible loss).
PRESET = "ultrafast"

NOT_VIDEO = "That file is not a video I can read (MP4, WebM, MOV). Please send another."


@dataclass(frozen=True)
class VideoInfo:
    """What `probe` finds; duration in seconds."""

    duration: float
    width: int
    height: int
    fps: float
    frames: int
    has_audio: bool
    size_bytes: int


@dataclass(frozen=True)
class FitResult:
    """The video to send (`path`, the source itself when it already fits) or why there is none."""

    path: Path | None
    info: VideoInfo | None
    reencoded: bool
    reason: str | None


@dataclass(frozen=True)
class DeliveryPlan:
    """How a result reaches the user: the file, a link to the archive, or the archive's name."""

    kind: Literal["file", "link", "name"]
    path: Path | None = None
    url: str | None = None
    message: str | None = None


@dataclass(frozen=True)
class _Plan:
    width: int
    height: int
    video_bitrate: int
    audio_bitrate: int


# Demuxers a real video comes in. FFmpeg also "opens" text files (as ANSI art) and still
# images; those are not videos to us.
VIDEO_CONTAINERS = frozenset(
    {"mov", "mp4", "matroska", "webm", "avi", "gif", "mpeg", "mpegts", "flv", "ogg", "h264"}
)


def open_video(path: Path, not_video: str = NOT_VIDEO) -> av.container.InputContainer:
    """Open `path` for decoding; InputError(`not_video`) unless it is a video container."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(not_video) from exc
    names = set(container.format.name.split(","))
    if not names & VIDEO_CONTAINERS or not container.streams.video:
        container.close()
        raise InputError(not_video)
    return container


def _probe(path: Path) -> VideoInfo:
    size = path.stat().st_size
    with open_video(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        frames = stream.frames
        if not frames:
            frames = sum(1 for p in container.demux(stream) if p.size)
        if not duration and fps:
            duration = frames / fps
        return VideoInfo(
            duration=duration,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=fps,
            frames=frames,
            has_audio=bool(container.streams.audio),
            size_bytes=size,
        )


async def probe(path: Path) -> VideoInfo:
    """Duration, size, fps, frame count, audio presence and file size of the video at `path`."""
    return await asyncio.to_thread(_probe, path)


def _thumbnail(path: Path, dest: Path, max_side: int) -> Path:
    with open_video(path) as container:
        try:
            frame = next(container.decode(video=0))
        except (StopIteration, av.FFmpegError) as exc:
            raise InputError(NOT_VIDEO) from exc
        image = frame.to_image()  # type: ignore[no-untyped-call]
    image.thumbnail((max_side, max_side))
    dest.parent.mkdir(parents=True, exist_ok=True)
    image.save(dest, format="JPEG", quality=85)
    return dest


async def thumbnail(path: Path, dest: Path, max_side: int = 320) -> Path:
    """Write the first frame of the video at `path` to `dest` as a JPEG within `max_side`."""
    return await asyncio.to_thread(_thumbnail, path, dest, max_side)


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def _scaled(info: VideoInfo, short_side: int) -> tuple[int, int]:
    """Width x height with the short side at most `short_side`, aspect kept, never upscaled."""
    scale = min(1.0, short_side / min(info.width, info.height))
    return _even(info.width * scale), _even(info.height * scale)


def plan_encode(info: VideoInfo, max_bytes: int) -> _Plan | str:
    """Bitrates and size for fitting `info` into `max_bytes`, or why it cannot be done."""
    if info.duration <= 0 or info.fps <= 0:
        return "the video's duration is unknown, so no bitrate can be computed"
    total = max_bytes * 8 * (1 - HEADROOM) / info.duration
    audio = 0
    if info.has_audio:
        audio = int(min(AUDIO_BITRATE, max(MIN_AUDIO_BITRATE, total * 0.12)))
    video = int(total - audio)
    floor_w, floor_h = _scaled(info, RUNGS[-1])
    floor_bpp = video / (floor_w * floor_h * info.fps)
    if video < MIN_VIDEO_BITRATE or floor_bpp < FLOOR_BPP:
        return (
            f"a {duration_text(info.duration)} video needs more than {size_text(max_bytes)} "
            f"even at {floor_h}p and the lowest watchable quality"
        )
    size = (info.width, info.height)
    for rung in RUNGS:
        size = _scaled(info, rung) if rung < min(info.width, info.height) else size
        if video / (size[0] * size[1] * info.fps) >= MIN_BPP:
            break
    return _Plan(size[0], size[1], video, audio)


def _encode(src: Path, dest: Path, plan: _Plan, preset: str) -> None:
    with (
        av.open(str(src)) as inp,
        av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        in_video = inp.streams.video[0]
        in_video.thread_type = "AUTO"
        rate = in_video.average_rate or in_video.guessed_rate or Fraction(16)
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = plan.width, plan.height, "yuv420p"
        video.bit_rate = plan.video_bitrate
        # VBV keeps single-pass ABR close to the target on hard content (noise, fast motion).
        video.options = {
            "preset": preset,
            "maxrate": str(int(plan.video_bitrate * 1.1)),
            "bufsize": str(plan.video_bitrate * 2),
        }
        video.codec_context.thread_count = 0
        streams: list[av.stream.Stream] = [in_video]
        audio = None
        if plan.audio_bitrate and inp.streams.audio:
            in_audio = inp.streams.audio[0]
            layout = "mono" if in_audio.channels == 1 else "stereo"
            audio = out.add_stream("aac", rate=in_audio.rate or 44_100, layout=layout)
            audio.bit_rate = plan.audio_bitrate
            streams.append(in_audio)
        count = 0
        for packet in inp.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    scaled = frame.reformat(plan.width, plan.height, "yuv420p")
                    scaled.pts, scaled.time_base = count, 1 / Fraction(rate)
                    count += 1
                    out.mux(video.encode(scaled))
                elif audio is not None and isinstance(frame, av.AudioFrame):
                    frame.pts = None
                    out.mux(audio.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))


def _fit(src: Path, dest: Path, max_bytes: int, preset: str) -> FitResult:
    if src.resolve() == dest.resolve():
        raise ValueError("fit_video never overwrites its source; pick another dest")
    info = _probe(src)
    if info.size_bytes <= max_bytes:
        return FitResult(src, info, reencoded=False, reason=None)
    partial = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    budget = max_bytes
    try:
        for _ in range(ATTEMPTS):
            plan = plan_encode(info, budget)
            if isinstance(plan, str):
                return FitResult(None, None, reencoded=False, reason=plan)
            _encode(src, partial, plan, preset)
            size = partial.stat().st_size
            if size <= max_bytes:
                partial.replace(dest)
                return FitResult(dest, _probe(dest), reencoded=True, reason=None)
            # Aim lower by how much we missed, plus a margin.
            budget = int(budget * max_bytes / size * 0.92)
    finally:
        partial.unlink(missing_ok=True)
    reason = f"after {ATTEMPTS} tries the video was still over {size_text(max_bytes)}"
    return FitResult(None, None, reencoded=True, reason=reason)


async def fit_video(src: Path, dest: Path, max_bytes: int, *, preset: str = PRESET) -> FitResult:
    """`src` if it is at most `max_bytes`, else an H.264/AAC re-encode at `dest` that is.

    Returns `path=None` with a `reason` when even the smallest acceptable encode (240p at a
    very low bitrate) cannot fit. `src` is never modified. `preset` is x264's (benchmarks).
    """
    return await asyncio.to_thread(_fit, src, dest, max_bytes, preset)


async def plan_delivery(
    src: Path, work_dir: Path, *, max_bytes: int, public_url: str | None, archive_name: str
) -> DeliveryPlan:
    """Send the file when it fits (re-encoded if need be), else a link, else the archive name."""
    fitted = await fit_video(src, work_dir / f"{src.stem}.fit.mp4", max_bytes)
    if fitted.path is not None:
        note = "Re-encoded to fit this chat's upload limit." if fitted.reencoded else None
        return DeliveryPlan("file", path=fitted.path, message=note)
    size = size_text(await asyncio.to_thread(os.path.getsize, src))
    why = f"The video ({size}) is too large to send here (limit {size_text(max_bytes)})"
    if public_url:
        url = public_url.rstrip("/") + "/" + archive_name
        return DeliveryPlan("link", url=url, message=f"{why}. Download it here: {url}")
    message = f"{why}. It is saved in the archive as {archive_name}; ask the bot's operator for it."
    return DeliveryPlan("name", message=message)
