"""Joining: an extension's last frame and its two clips as one, and a long video's clips."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from bot.errors import InputError
from bot.media.joins import join_clips, join_videos, last_frame
from fakes.media import clip_frames, clip_numbers, probe, write_mp4


def decoded_last(path: Path) -> Image.Image:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    image: Image.Image = frames[-1].to_image()
    return image


async def test_the_last_frame_is_the_clips_last_picture(tmp_path: Path) -> None:
    clip = write_mp4(tmp_path / "clip.mp4", width=96, height=64, frames=9)
    frame = await last_frame(clip, tmp_path / "last.png")
    with Image.open(frame) as opened:
        got = opened.convert("RGB")
    assert got.size == (96, 64)
    difference = ImageStat.Stat(ImageChops.difference(got, decoded_last(clip))).mean
    assert max(difference) < 1.0  # the same picture (the gradient moves every frame)
    one = await last_frame(write_mp4(tmp_path / "one.mp4", frames=1), tmp_path / "f.png")
    with Image.open(one) as single:
        assert single.size == (64, 48)


async def test_two_clips_become_one_without_the_repeated_frame(tmp_path: Path) -> None:
    first = write_mp4(tmp_path / "a.mp4", width=96, height=64, frames=9, fps=16)
    second = write_mp4(tmp_path / "b.mp4", width=96, height=64, frames=9, fps=16)
    info = await join_videos(first, second, tmp_path / "out" / "joined.mp4")
    real = probe(tmp_path / "out" / "joined.mp4")
    assert (real.frames, real.width, real.height) == (17, 96, 64)
    assert info.frames == 17 and abs(info.fps - 16) < 0.01
    assert not list((tmp_path / "out").glob("*.part"))


async def test_what_is_not_a_video_cannot_be_extended(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(InputError, match="cannot be extended"):
        await last_frame(text, tmp_path / "x.png")


def three_clips(folder: Path, frames: int = 12) -> list[Path]:
    """Clips 0, 1 and 2 of a chain; each frame shows its clip's number and its index in it."""
    return [
        write_mp4(folder / f"clip{n}.mp4", width=96, height=64, frames=frames, fps=16, clip=n)
        for n in range(3)
    ]


async def test_a_chain_is_the_first_clip_then_the_others_without_their_overlap(
    tmp_path: Path,
) -> None:
    clips = three_clips(tmp_path)
    info = await join_clips(clips, tmp_path / "out" / "long.mp4", overlap=5, keep_frames=None)

    joined = tmp_path / "out" / "long.mp4"
    expected = [(0, i) for i in range(12)] + [(n, i) for n in (1, 2) for i in range(5, 12)]
    assert clip_frames(joined) == expected  # 12 + 7 + 7 frames, in clip order
    real = probe(joined)
    assert (real.frames, real.width, real.height) == (26, 96, 64)
    assert info.frames == 26 and abs(info.fps - 16) < 0.01
    assert not list((tmp_path / "out").glob("*.part"))


@pytest.mark.parametrize(("keep", "counts"), [(20, [12, 7, 1]), (19, [12, 7]), (9, [9])])
async def test_a_chain_stops_at_the_wanted_length(
    tmp_path: Path, keep: int, counts: list[int]
) -> None:
    clips = three_clips(tmp_path)
    info = await join_clips(clips, tmp_path / "long.mp4", overlap=5, keep_frames=keep)

    numbers = clip_numbers(tmp_path / "long.mp4")
    assert numbers == [n for n, count in enumerate(counts) for _ in range(count)]
    assert info.frames == keep


async def test_a_chain_longer_than_its_clips_keeps_every_frame(tmp_path: Path) -> None:
    clips = three_clips(tmp_path, frames=6)
    info = await join_clips(clips, tmp_path / "long.mp4", overlap=5, keep_frames=100)
    assert clip_numbers(tmp_path / "long.mp4") == [0] * 6 + [1, 2]
    assert info.frames == 8


@pytest.mark.parametrize("broken", ["text", "empty", "only-overlap"])
async def test_a_broken_clip_is_named_politely(tmp_path: Path, broken: str) -> None:
    clips = three_clips(tmp_path)
    if broken == "text":
        clips[1].write_text("not a video")
    elif broken == "empty":
        clips[1].write_bytes(b"")
    else:  # a video, but all its frames are the overlap
        write_mp4(clips[1], width=96, height=64, frames=5, clip=1)
    dest = tmp_path / "out" / "long.mp4"

    with pytest.raises(InputError) as caught:
        await join_clips(clips, dest, overlap=5, keep_frames=None)

    assert str(caught.value) == (
        "Part 2 of 3 of the long video has no frames I can read, so the parts cannot be "
        "joined. Please make the video again."
    )
    assert not dest.exists() and not list((tmp_path / "out").glob("*.part"))


async def test_a_broken_first_clip_is_named_too(tmp_path: Path) -> None:
    clips = three_clips(tmp_path)
    clips[0].write_text("not a video")
    with pytest.raises(InputError, match=r"^Part 1 of 3 of the long video has no frames"):
        await join_clips(clips, tmp_path / "long.mp4", overlap=5, keep_frames=None)
