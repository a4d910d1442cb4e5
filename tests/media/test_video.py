from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest
from PIL import Image

from bot.errors import InputError
from bot.media.video import fit_video, plan_delivery, probe, thumbnail
from tests.media.conftest import make_video

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def big_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 30 MB of hard-to-compress 832x480 video with an AAC track (6 s at 16 fps)."""
    path = tmp_path_factory.mktemp("big") / "noise.mp4"
    return make_video(path, 6.0, size=(832, 480), fps=16, noisy=True, crf=10)


def _top_level_atoms(path: Path) -> list[str]:
    atoms = []
    with path.open("rb") as fh:
        while header := fh.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
                fh.seek(size - 16, 1)
            else:
                fh.seek(size - 8, 1)
            atoms.append(kind.decode("latin-1"))
    return atoms


def _fingerprint(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _leftovers(folder: Path) -> list[Path]:
    return list(folder.glob("*.part"))


def _audio_duration(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.duration is not None
        assert stream.time_base is not None
        return float(stream.duration * stream.time_base)


async def test_probe(tmp_path: Path) -> None:
    src = make_video(tmp_path / "clip.mp4", 2.0, size=(320, 240), fps=16)
    info = await probe(src)
    assert (info.width, info.height, info.fps, info.frames) == (320, 240, 16.0, 32)
    assert info.duration == pytest.approx(2.0, abs=1 / 16)
    assert info.has_audio
    assert info.size_bytes == src.stat().st_size


async def test_probe_without_audio(tmp_path: Path) -> None:
    info = await probe(make_video(tmp_path / "mute.mp4", 1.0, audio=False))
    assert not info.has_audio


async def test_probe_rejects_non_video(tmp_path: Path, text_file: Path) -> None:
    with pytest.raises(InputError, match="not a video"):
        await probe(text_file)


async def test_thumbnail(tmp_path: Path) -> None:
    src = make_video(tmp_path / "clip.mp4", 1.0, size=(640, 360))
    dest = await thumbnail(src, tmp_path / "thumb.jpg", max_side=160)
    with Image.open(dest) as image:
        assert image.format == "JPEG"
        assert image.size == (160, 90)


async def test_small_video_is_returned_untouched(tmp_path: Path) -> None:
    src = make_video(tmp_path / "clip.mp4", 1.0)
    before = src.read_bytes()
    result = await fit_video(src, tmp_path / "out.mp4", 10 * MIB)
    assert result.path == src
    assert not result.reencoded
    assert not (tmp_path / "out.mp4").exists()
    assert src.read_bytes() == before


async def test_big_video_is_fitted_under_limit(big_video: Path, tmp_path: Path) -> None:
    original = await probe(big_video)
    assert original.size_bytes > 25 * MIB
    before = _fingerprint(big_video)
    result = await fit_video(big_video, tmp_path / "fit.mp4", 10 * MIB)
    assert result.path == tmp_path / "fit.mp4"
    assert result.reencoded
    assert result.info is not None
    assert result.path.stat().st_size <= 10 * MIB
    assert result.info.has_audio
    assert result.info.duration == pytest.approx(original.duration, abs=1 / original.fps)
    assert result.info.frames == original.frames
    assert _audio_duration(result.path) == pytest.approx(_audio_duration(big_video), abs=0.05)
    atoms = _top_level_atoms(result.path)
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart
    assert _fingerprint(big_video) == before
    assert _leftovers(tmp_path) == []


async def test_tighter_limit_steps_resolution_down(big_video: Path, tmp_path: Path) -> None:
    result = await fit_video(big_video, tmp_path / "fit.mp4", MIB // 4)
    assert result.path is not None
    assert result.info is not None
    assert result.path.stat().st_size <= MIB // 4
    assert result.info.height < 480
    assert result.info.width / result.info.height == pytest.approx(832 / 480, rel=0.03)
    assert result.info.width % 2 == 0
    assert result.info.height % 2 == 0


async def test_video_that_cannot_fit(big_video: Path, tmp_path: Path) -> None:
    result = await fit_video(big_video, tmp_path / "fit.mp4", 20_000)
    assert result.path is None
    assert result.reason
    assert "240p" in result.reason
    assert not (tmp_path / "fit.mp4").exists()


async def test_plan_delivery_file(big_video: Path, tmp_path: Path) -> None:
    plan = await plan_delivery(
        big_video, tmp_path, max_bytes=50 * MIB, public_url=None, archive_name="job.mp4"
    )
    assert plan.kind == "file"
    assert plan.path == big_video


async def test_plan_delivery_link_and_name(big_video: Path, tmp_path: Path) -> None:
    link = await plan_delivery(
        big_video,
        tmp_path,
        max_bytes=20_000,
        public_url="https://files.example.org/wan/",
        archive_name="2024/job-7.mp4",
    )
    assert link.kind == "link"
    assert link.url == "https://files.example.org/wan/2024/job-7.mp4"
    assert link.message is not None
    assert link.url in link.message
    name = await plan_delivery(
        big_video, tmp_path, max_bytes=20_000, public_url=None, archive_name="job-7.mp4"
    )
    assert name.kind == "name"
    assert name.path is None
    assert name.message is not None
    assert "job-7.mp4" in name.message
