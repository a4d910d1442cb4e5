"""Pose and face frame sets for WanAnimate, packed as one H.264 MP4 for VHS_LoadVideo.

A set comes as several images (kept in the order sent), one zip of images (sorted by name,
numbers compared as numbers: frame2 before frame10; `__MACOSX`, dot files and `Thumbs.db` are
ignored), or one video, sampled at the job's fps. Every frame is resized to the job's size.

Too many frames: a video is cut to `limits.max_pose_frames` (its length is incidental, the
start is what matters), while an image set or zip over the limit is refused, because the
person chose those exact frames.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
import zlib
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import IO, Literal

import av
from PIL import Image

from bot.config import Limits
from bot.errors import InputError
from bot.media.decode import (
    Fit,
    PixelBudget,
    cover_size,
    decode_rgb,
    draft,
    is_still_image,
    measure,
    open_image,
)
from bot.media.images import check_file_size, fit_to
from bot.media.video import open_video

JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini"})
# A zip may expand to at most this many times the input byte limit.
ZIP_EXPANSION = 20
CRF = "18"

Frames = Generator[Image.Image, None, None]


@dataclass(frozen=True)
class PreparedFrames:
    """The MP4 written for the workflow and its frame count."""

    path: Path
    count: int
    width: int
    height: int
    was_cut: bool = False


def frames_for_count(count: int, max_frames: int | None = None) -> int:
    """The largest 4n+1 frame count WanAnimate can make from `count` guide frames."""
    if max_frames is not None:
        count = min(count, max_frames)
    return max(1, (count - 1) // 4 * 4 + 1)


async def check_matching(pose: PreparedFrames, face: PreparedFrames) -> None:
    """InputError when the face and pose sets do not have the same number of frames."""
    if pose.count != face.count:
        raise InputError(
            f"The pose frames ({pose.count}) and face frames ({face.count}) differ in number. "
            "Please send face and pose sets of the same length (same duration and fps)."
        )


def _natural_key(name: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _is_junk(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        name.endswith("/")
        or "__MACOSX" in path.parts
        or any(part.startswith(".") for part in path.parts)
        or path.name.lower() in JUNK_NAMES
    )


@dataclass(frozen=True)
class _Job:
    """What every frame of one set is decoded for."""

    what: str  # "pose", "face"
    size: tuple[int, int]
    fit: Fit
    limits: Limits
    budget: PixelBudget

    def take(self, pixels: int) -> None:
        self.budget.take(pixels, f"Your {self.what} frames", self.size)


def _decoded(fp: Path | IO[bytes], name: str, job: _Job) -> Image.Image:
    with open_image(fp, name) as image:
        draft(image, job.size, job.fit, name)
        return decode_rgb(image, job.size, job.fit, name)


@contextmanager
def _unpacking(name: str) -> Iterator[None]:
    """Turn a zip member's read failures (damaged, encrypted, unknown method) into InputError."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, NotImplementedError) as exc:
        raise InputError(f"{name} cannot be unpacked. Please send the zip again.") from exc


def _member_pixels(archive: zipfile.ZipFile, member: zipfile.ZipInfo, job: _Job) -> int:
    name = f"{member.filename} in your {job.what} zip"
    with _unpacking(name), archive.open(member) as fp:
        return measure(fp, name, job.size, job.fit)


def _zip_images(src: Path, job: _Job) -> Frames:
    what = job.what
    with zipfile.ZipFile(src) as archive:
        members = sorted(
            (m for m in archive.infolist() if not _is_junk(m.filename)),
            key=lambda m: _natural_key(m.filename),
        )
        if not members:
            raise InputError(f"The {what} zip has no images in it. Please send frames.")
        _check_count(len(members), what, job.limits)
        if sum(m.file_size for m in members) > job.limits.max_input_bytes * ZIP_EXPANSION:
            raise InputError(f"The {what} zip expands to too much data. Please send fewer frames.")
        # Headers first: a set over the job's pixel budget is refused before any decoding.
        job.take(sum(_member_pixels(archive, m, job) for m in members))
        for member in members:
            name = f"{member.filename} in your {what} zip"
            with _unpacking(name):
                data = archive.read(member)
            yield _decoded(io.BytesIO(data), name, job)


def _file_images(sources: list[Path], job: _Job) -> Frames:
    what = job.what
    _check_count(len(sources), what, job.limits)
    named = [
        (src, f"{what.capitalize()} file {i} ({src.name})") for i, src in enumerate(sources, 1)
    ]
    for index, src in enumerate(sources, 1):
        check_file_size(src, job.limits.max_input_bytes, f"{what} file {index}")
    # Headers first: a set over the job's pixel budget is refused before any decoding.
    job.take(sum(measure(src, name, job.size, job.fit) for src, name in named))
    for src, name in named:
        yield _decoded(src, name, job)


def _picture(frame: av.VideoFrame, job: _Job) -> Image.Image:
    """`frame` as RGB, scaled in the same pass to what `job.size` needs."""
    width, height = cover_size((frame.width, frame.height), job.size, job.fit)
    picture: Image.Image = frame.to_image(width=width, height=height)  # type: ignore[no-untyped-call]
    return picture


def _video_images(src: Path, fps: float, job: _Job) -> Frames:
    """Frames of the video at `src` sampled at `fps`: for each tick, the frame showing then.

    A decoded frame becomes a picture only when a tick shows it: a 60 fps clip sampled at
    16 fps converts about a quarter of its frames.
    """
    what = job.what
    not_video = f"The {what} file is not a video, image or zip I can read. Please send another."
    with open_video(src, not_video) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = float(stream.average_rate or stream.guessed_rate or fps)
        tick, start, last_time = 0, None, 0.0
        previous: av.VideoFrame | None = None
        picture: Image.Image | None = None
        try:
            for frame in container.decode(stream):
                time = frame.time if frame.time is not None else last_time + 1 / rate
                start = time if start is None else start
                last_time = time
                while previous is not None and tick / fps < time - start - 1e-6:
                    if picture is None:
                        picture = _picture(previous, job)
                    yield picture
                    tick += 1
                previous, picture = frame, None
        except av.FFmpegError as exc:
            raise InputError(f"The {what} video is damaged. Please send it again.") from exc
        if previous is None or start is None:
            raise InputError(f"The {what} video has no frames. Please send another.")
        # The last frame lasts one source frame.
        while tick / fps < last_time - start + 1 / rate - 1e-6:
            if picture is None:
                picture = _picture(previous, job)
            yield picture
            tick += 1


def _check_count(count: int, what: str, limits: Limits) -> None:
    if count > limits.max_pose_frames:
        raise InputError(
            f"That is {count} {what} frames; the limit is {limits.max_pose_frames}. "
            "Please send fewer frames or a shorter clip."
        )


def _kind(sources: list[Path], what: str) -> Literal["images", "zip", "video"]:
    if not sources:
        raise InputError(f"No {what} frames were attached. Please send images, a zip or a video.")
    if len(sources) > 1:
        return "images"
    src = sources[0]
    if zipfile.is_zipfile(src):
        return "zip"
    # An animated GIF or WebP is a clip, not a still.
    return "images" if is_still_image(src) else "video"


def _write(
    frames: Iterator[Image.Image],
    dest: Path,
    size: tuple[int, int],
    fps: float,
    fit: Fit,
    cut_at: int | None,
) -> tuple[int, bool]:
    """Encode `frames` (resized) into `dest`; the count written and whether it was cut."""
    count, was_cut = 0, False
    dest.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(dest), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": CRF, "preset": "veryfast"}
        stream.codec_context.thread_count = 0
        for image in frames:
            if cut_at is not None and count >= cut_at:
                was_cut = True
                break
            fitted = fit_to(image, size[0], size[1], fit)
            frame = av.VideoFrame.from_image(fitted)  # type: ignore[no-untyped-call]
            frame.pts = count
            out.mux(stream.encode(frame))
            count += 1
        out.mux(stream.encode(None))
    return count, was_cut


def _prepare(sources: list[Path], dest: Path, fps: float, job: _Job) -> PreparedFrames:
    size, what = job.size, job.what
    if size[0] % 2 or size[1] % 2:
        raise ValueError(f"frame size must be even for H.264, got {size[0]}x{size[1]}")
    kind = _kind(sources, what)
    cut_at = None
    if kind == "zip":
        # The zip itself counts against the limit, as a chat's download of it would.
        check_file_size(sources[0], job.limits.max_input_bytes, f"{what} zip")
        frames = _zip_images(sources[0], job)
    elif kind == "images":
        frames = _file_images(sources, job)
    else:
        check_file_size(sources[0], job.limits.max_input_bytes, f"{what} video")
        frames = _video_images(sources[0], fps, job)
        cut_at = job.limits.max_pose_frames
    try:
        count, was_cut = _write(frames, dest, size, fps, job.fit, cut_at)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    finally:
        frames.close()
    if count == 0:
        dest.unlink(missing_ok=True)
        raise InputError(f"No {what} frames could be read. Please send images, a zip or a video.")
    return PreparedFrames(dest, count, size[0], size[1], was_cut)


async def prepare_frames(
    sources: list[Path],
    dest: Path,
    *,
    width: int,
    height: int,
    fps: float,
    limits: Limits,
    what: str = "pose",
    fit: Fit = "crop",
    budget: PixelBudget | None = None,
) -> PreparedFrames:
    """Write the frame set in `sources` to `dest` as one width x height H.264 MP4 at `fps`.

    `what` ("pose", "face") names the set in error messages. The pixels decoded from images
    count against `budget` (the job's; by default a fresh one of `limits.max_total_pixels`),
    all of a set's before its first image is decoded; a video's frames are bounded by
    `limits.max_pose_frames` instead. Raises InputError for an empty set, a member that is not
    an image, an unreadable zip or video, too many images, or a set over the budget.
    """
    if budget is None:
        budget = PixelBudget(limits.max_total_pixels)
    job = _Job(what, (width, height), fit, limits, budget)
    return await asyncio.to_thread(_prepare, sources, dest, fps, job)
