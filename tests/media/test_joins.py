"""Extending: the last frame of a clip, and two clips joined into one."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from bot.errors import InputError
from bot.media.joins import join_videos, last_frame
from fakes.media import probe, write_mp4


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
