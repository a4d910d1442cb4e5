"""Joining clips into one video: an extension's two clips, a long video's chain, and the last
frame an extension starts on.

The continuation starts on the original's last frame, so its own first frame repeats it and is
dropped when joining. A long video's later clips repeat the previous clip's last frames (their
overlap, `workflows.svi.OVERLAP_FRAMES`), dropped the same way. The joined video is encoded once
(H.264, the first clip's size and frame rate); a fitted copy for a chat is made from it later like
any result.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Generator, Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av

from bot.errors import InputError
from bot.media.video import PRESET, VideoInfo, _probe, open_video

_Shape = tuple[int, int, Fraction]  # width, height, frame rate

NO_FRAMES = "That video has no frames I can read, so it cannot be extended."
CLIP_NO_FRAMES = (
    "Part {number} of {total} of the long video has no frames I can read, so the parts cannot "
    "be joined. Please make the video again."
)
QUALITY = "18"  # x264 CRF: visually lossless for the archive; fitting for chats comes later


def _frames(path: Path, unreadable: str = NO_FRAMES) -> Generator[av.VideoFrame]:
    with open_video(path, unreadable) as container:
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


def _last_frames(src: Path, count: int, dest: Path) -> Path:
    with contextlib.closing(_frames(src, NO_FRAMES)) as frames:
        kept = collections.deque(frames, maxlen=count)
    if not kept:
        raise InputError(NO_FRAMES)
    _encode(kept, _shape_of(_probe(src)), dest)
    return dest


async def last_frames(src: Path, count: int, dest: Path) -> Path:
    """The last `count` frames of the video `src` (all, if it has fewer), as an MP4 at `dest`
    at its size and frame rate: where an SVI continuation picks up the motion."""
    return await asyncio.to_thread(_last_frames, src, count, dest)


def _encode(frames: Iterable[av.VideoFrame], shape: _Shape, dest: Path) -> VideoInfo:
    """`frames` as one H.264 MP4 at `dest` (via a partial file), at `shape`'s size and rate."""
    width, height, rate = shape
    partial = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with av.open(str(partial), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video = out.add_stream("libx264", rate=rate)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.options = {"preset": PRESET, "crf": QUALITY}
            video.codec_context.thread_count = 0
            for count, frame in enumerate(frames):
                picture = frame.reformat(width, height, "yuv420p")
                picture.pts, picture.time_base = count, 1 / rate
                out.mux(video.encode(picture))
            out.mux(video.encode(None))
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return _probe(dest)


def _shape_of(info: VideoInfo) -> _Shape:
    rate = Fraction(info.fps).limit_denominator(1001) if info.fps > 0 else Fraction(16)
    return info.width, info.height, rate


def _join(first: Path, second: Path, dest: Path, overlap: int) -> VideoInfo:
    frames = _chained([first, second], overlap, None, [NO_FRAMES] * 2, strict=False)
    return _encode(frames, _shape_of(_probe(first)), dest)


def _chained(
    clips: Sequence[Path],
    overlap: int,
    keep_frames: int | None,
    unreadable: Sequence[str],
    *,
    strict: bool,
) -> Iterator[av.VideoFrame]:
    """Every frame of the first clip, then each later one's after its first `overlap`, up to
    `keep_frames` in all. A clip that cannot be opened raises InputError(`unreadable[i]`), as
    does (`strict`) a clip reached that gives no frame."""
    count = 0
    for index, path in enumerate(clips):
        given = 0
        with contextlib.closing(_frames(path, unreadable[index])) as frames:
            for number, frame in enumerate(frames):
                if index and number < overlap:
                    continue
                yield frame
                count, given = count + 1, given + 1
                if count == keep_frames:
                    return
        if strict and not given:
            raise InputError(unreadable[index])


def _join_clips(
    clips: Sequence[Path], dest: Path, overlap: int, keep_frames: int | None
) -> VideoInfo:
    if not clips or overlap < 0 or (keep_frames is not None and keep_frames < 1):
        raise ValueError(f"cannot join {len(clips)} clips, overlap {overlap}, keep {keep_frames}")
    messages = [CLIP_NO_FRAMES.format(number=n, total=len(clips)) for n in range(1, len(clips) + 1)]
    try:
        shape = _shape_of(_probe(clips[0]))
    except InputError as exc:
        raise InputError(messages[0]) from exc
    return _encode(_chained(clips, overlap, keep_frames, messages, strict=True), shape, dest)


async def join_videos(first: Path, second: Path, dest: Path, *, overlap: int = 1) -> VideoInfo:
    """`first` then `second` without the frames it repeats (`overlap`: from the last frame,
    its first; an SVI continuation, the anchor and the motion latent's frames) as one H.264
    MP4 at `dest`."""
    return await asyncio.to_thread(_join, first, second, dest, overlap)


async def join_clips(
    clips: list[Path], dest: Path, *, overlap: int, keep_frames: int | None
) -> VideoInfo:
    """A long video's clips as one H.264 MP4 at `dest`, encoded once at the first clip's size
    and frame rate: every frame of the first clip, then each later clip without its first
    `overlap` frames, stopping at `keep_frames` frames in all (None: every frame).

    Raises InputError when a clip cannot be read or, when its turn comes, gives no frame;
    ValueError for no clips, a negative `overlap` or a `keep_frames` under 1.
    """
    return await asyncio.to_thread(_join_clips, clips, dest, overlap, keep_frames)
