from __future__ import annotations

import zipfile
from pathlib import Path

import av
import pytest
from PIL import Image

from bot.config import Limits
from bot.errors import InputError
from bot.media.frames import (
    PreparedFrames,
    check_matching,
    frames_for_count,
    prepare_frames,
)
from bot.media.video import probe
from tests.media.conftest import make_image, make_video


def _images(folder: Path, count: int, size: tuple[int, int] = (200, 300)) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [make_image(folder / f"frame{i}.png", size, "PNG") for i in range(count)]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _first_frame(path: Path, tmp_path: Path) -> Path:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        out = tmp_path / "first.png"
        frame.to_image().save(out)
    return out


async def _prepare(sources: list[Path], tmp_path: Path, **kwargs: object) -> PreparedFrames:
    args: dict[str, object] = {"width": 160, "height": 96, "fps": 16.0, "limits": Limits()}
    args.update(kwargs)
    return await prepare_frames(sources, tmp_path / "pose.mp4", **args)  # type: ignore[arg-type]


async def test_from_images(tmp_path: Path) -> None:
    sources = _images(tmp_path / "in", 5)
    result = await _prepare(sources, tmp_path)
    assert (result.count, result.width, result.height) == (5, 160, 96)
    info = await probe(result.path)
    assert (info.frames, info.width, info.height, info.fps) == (5, 160, 96, 16.0)


async def test_from_zip_sorted_by_name_ignoring_junk(tmp_path: Path) -> None:
    colours = {"f2.png": "red", "f10.png": "blue", "f1.png": "lime"}
    members = {}
    for name, colour in colours.items():
        path = tmp_path / name
        Image.new("RGB", (320, 192), colour).save(path)
        members[f"pose/{name}"] = path.read_bytes()
    members["__MACOSX/pose/._f1.png"] = b"junk"
    members["pose/.DS_Store"] = b"junk"
    members["pose/Thumbs.db"] = b"junk"
    src = _zip(tmp_path / "pose.zip", members)
    result = await _prepare([src], tmp_path)
    assert result.count == 3
    # Order follows names with numbers compared as numbers: f1, f2, f10.
    with Image.open(_first_frame(result.path, tmp_path)) as first:
        red, green, _blue = first.getpixel((80, 48))  # type: ignore[misc]
        assert green > 150
        assert red < 80


async def test_from_zip_mixed_aspect_ratios_is_fine(tmp_path: Path) -> None:
    a = make_image(tmp_path / "a.png", (300, 300), "PNG").read_bytes()
    b = make_image(tmp_path / "b.jpg", (640, 200), "JPEG").read_bytes()
    src = _zip(tmp_path / "set.zip", {"1.png": a, "2.jpg": b})
    result = await _prepare([src], tmp_path)
    assert result.count == 2


@pytest.mark.parametrize(("fps", "expected"), [(16.0, 32), (8.0, 16), (24.0, 48)])
async def test_from_video_follows_fps(tmp_path: Path, fps: float, expected: int) -> None:
    src = make_video(tmp_path / "dance.mp4", 2.0, size=(320, 192), fps=24, audio=False)
    result = await _prepare([src], tmp_path, fps=fps)
    assert result.count == expected
    info = await probe(result.path)
    assert info.frames == expected
    assert info.duration == pytest.approx(2.0, abs=1 / fps)


async def test_video_over_limit_is_cut(tmp_path: Path) -> None:
    src = make_video(tmp_path / "dance.mp4", 2.0, size=(320, 192), fps=16, audio=False)
    result = await _prepare([src], tmp_path, limits=Limits(max_pose_frames=10))
    assert result.count == 10
    assert result.was_cut


async def test_images_over_limit_are_refused(tmp_path: Path) -> None:
    sources = _images(tmp_path / "in", 4)
    with pytest.raises(InputError, match="limit is 3"):
        await _prepare(sources, tmp_path, limits=Limits(max_pose_frames=3))


async def test_rejects_empty_set(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No pose frames"):
        await _prepare([], tmp_path)


async def test_rejects_empty_zip(tmp_path: Path) -> None:
    src = _zip(tmp_path / "empty.zip", {"__MACOSX/x": b"junk"})
    with pytest.raises(InputError, match="no images"):
        await _prepare([src], tmp_path)


async def test_rejects_set_with_non_image(tmp_path: Path, text_file: Path) -> None:
    sources = [*_images(tmp_path / "in", 2), text_file]
    with pytest.raises(InputError, match=r"file 3 \(notes.png\) is not an image"):
        await _prepare(sources, tmp_path, what="face")
    assert not (tmp_path / "pose.mp4").exists()


async def test_rejects_zip_with_non_image(tmp_path: Path) -> None:
    good = make_image(tmp_path / "a.png", (200, 200), "PNG").read_bytes()
    src = _zip(tmp_path / "set.zip", {"1.png": good, "2.png": b"not really a png"})
    with pytest.raises(InputError, match=r"2\.png in your pose zip is not an image"):
        await _prepare([src], tmp_path)


async def test_rejects_unreadable_single_file(tmp_path: Path, text_file: Path) -> None:
    with pytest.raises(InputError, match="not a video, image or zip"):
        await _prepare([text_file], tmp_path)


@pytest.mark.parametrize(
    ("count", "max_frames", "expected"),
    [(81, None, 81), (84, None, 81), (85, None, 85), (3, None, 1), (400, 161, 161)],
)
def test_frames_for_count(count: int, max_frames: int | None, expected: int) -> None:
    assert frames_for_count(count, max_frames) == expected


async def test_check_matching(tmp_path: Path) -> None:
    pose = PreparedFrames(tmp_path / "p.mp4", 81, 832, 480)
    await check_matching(pose, PreparedFrames(tmp_path / "f.mp4", 81, 832, 480))
    with pytest.raises(InputError, match=r"pose frames \(81\) and face frames \(77\)"):
        await check_matching(pose, PreparedFrames(tmp_path / "f.mp4", 77, 832, 480))
