"""What an input file is, before it is decoded: a regular file, not empty, within the limit."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from bot.config import Limits
from bot.errors import InputError
from bot.media.frames import prepare_frames
from bot.media.images import check_file_size
from tests.media.conftest import make_image

LIMIT = 64 * 1024


async def test_a_pose_zip_over_the_input_limit_is_refused(tmp_path: Path) -> None:
    frames = [make_image(tmp_path / f"{i:03d}.png", (64, 64), "PNG") for i in range(3)]
    src = tmp_path / "pose.zip"
    with zipfile.ZipFile(src, "w") as archive:
        for frame in frames:
            archive.write(frame, frame.name)
        archive.writestr("notes.bin", os.urandom(LIMIT))  # not compressible: the zip is big
    with pytest.raises(InputError) as caught:
        await prepare_frames([src], tmp_path / "pose.mp4", width=64, height=64, fps=16.0,
                             limits=Limits(max_input_bytes=LIMIT))  # fmt: skip
    assert str(caught.value).startswith("The pose zip is too large (")
    assert "the limit is 64 KB" in str(caught.value)
    assert not (tmp_path / "pose.mp4").exists()


def test_a_device_is_not_called_empty() -> None:
    with pytest.raises(InputError) as caught:
        check_file_size(Path("/dev/zero"), LIMIT, "image")
    assert str(caught.value) == (
        "The image (zero) is not a regular file but a device, pipe or folder: please give a file."
    )


def test_a_file_whose_size_reads_0_but_has_content_is_measured(tmp_path: Path) -> None:
    environ = Path("/proc/self/environ")
    if not environ.exists() or environ.stat().st_size != 0 or not environ.read_bytes():
        pytest.skip("needs Linux's /proc, whose files report size 0")
    assert check_file_size(environ, LIMIT, "image") == len(environ.read_bytes())
    with pytest.raises(InputError, match="too large"):
        check_file_size(environ, 1, "image")


def test_an_empty_regular_file_is_still_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.touch()
    with pytest.raises(InputError, match=r"empty \(0 bytes\)"):
        check_file_size(empty, LIMIT, "image")
