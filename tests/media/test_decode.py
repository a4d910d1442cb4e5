"""Decoding no larger than needed, and the per-job pixel budget (`limits.max_total_pixels`)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.config import Config, Limits
from bot.errors import InputError
from bot.intake import prepare_request
from bot.media.decode import PixelBudget, cover_size, decode_rgb, draft, open_image
from bot.media.frames import prepare_frames
from bot.media.images import prepare_image
from bot.request import InputFiles, Mode
from tests.factories import make_request
from tests.media.conftest import make_image, make_png_header

# Header-only PNGs of 7000x7000 (49 megapixels, under the 64-megapixel limit per image):
# 41 of them are the zip that cost 27 s of CPU and 1.1 GB of memory.
BIG_SIDE = 7000
BIG_COUNT = 41


def _big_pngs(folder: Path, count: int = BIG_COUNT) -> list[Path]:
    folder.mkdir()
    return [make_png_header(folder / f"{i:03d}.png", BIG_SIDE, BIG_SIDE) for i in range(count)]


def _zip(path: Path, files: list[Path]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for file in files:
            archive.write(file, file.name)
    return path


async def test_zip_of_many_large_pngs_is_refused_before_decoding(tmp_path: Path) -> None:
    src = _zip(tmp_path / "pose.zip", _big_pngs(tmp_path / "frames"))
    # Their pixel data is not a picture: decoding any one of them would say "damaged".
    with pytest.raises(InputError) as caught:
        await prepare_frames([src], tmp_path / "pose.mp4", width=832, height=480, fps=16.0,
                             limits=Limits())  # fmt: skip
    assert str(caught.value) == (
        "Your pose frames would bring this job's images to 2009 megapixels; the limit is 1000 "
        "megapixels per job. Please send smaller images (the video is 832x480, so that size is "
        "enough) or fewer of them."
    )
    assert not (tmp_path / "pose.mp4").exists()


async def test_separate_large_images_are_refused_before_decoding(tmp_path: Path) -> None:
    sources = _big_pngs(tmp_path / "frames")
    with pytest.raises(
        InputError, match=r"Your face frames would bring .* the limit is 1000 megapixels"
    ):
        await prepare_frames(sources, tmp_path / "face.mp4", width=512, height=512, fps=16.0,
                             limits=Limits(), what="face")  # fmt: skip


async def test_the_budget_is_shared_by_all_images_of_a_job(tmp_path: Path) -> None:
    limits = Limits(min_side=64, max_total_pixels=3_000_000)
    budget = PixelBudget(limits.max_total_pixels)
    photo = make_image(tmp_path / "photo.png", (2000, 1000))  # 2 megapixels
    await prepare_image(photo, tmp_path / "image.png", width=832, height=480,
                        follow_orientation=True, fit="crop", limits=limits,
                        budget=budget)  # fmt: skip
    assert budget.used == 2_000_000
    folder = tmp_path / "pose"
    folder.mkdir()
    frames = [make_image(folder / f"{i}.png", (1000, 600)) for i in range(2)]  # 1.2 megapixels
    with pytest.raises(InputError, match=r"to 3\.2 megapixels; the limit is 3 megapixels"):
        await prepare_frames(frames, tmp_path / "pose.mp4", width=832, height=480, fps=16.0,
                             limits=limits, budget=budget)  # fmt: skip


async def test_prepare_request_counts_the_photo_and_the_pose_zip_together(tmp_path: Path) -> None:
    photo = make_image(tmp_path / "photo.png", (2000, 1000))
    folder = tmp_path / "pose"
    folder.mkdir()
    frames = [make_image(folder / f"{i}.png", (1000, 600)) for i in range(2)]
    request = make_request(
        Mode.ANIMATE,
        tmp_path,
        inputs=InputFiles(image=photo, pose=[_zip(tmp_path / "p.zip", frames)]),
    )
    config = Config.model_validate({
        "comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:9"}]},
        "limits": {"max_total_pixels": 3_000_000},
    })  # fmt: skip
    with pytest.raises(InputError, match=r"Your pose frames would bring this job's images to 3\.2"):
        await prepare_request(request, config, tmp_path / "job")


def _jpeg(path: Path, size: tuple[int, int]) -> Path:
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.save(path, format="JPEG", quality=90)
    return path


def test_large_jpeg_is_decoded_at_a_reduced_scale(tmp_path: Path) -> None:
    src = _jpeg(tmp_path / "big.jpg", (4000, 3000))
    with open_image(src) as image:
        draft(image, (832, 480), "crop")
        # 1/4 scale is the smallest that still covers 832x480 without upscaling.
        assert image.size == (1000, 750)
        decoded = decode_rgb(image, (832, 480), "crop", "That file")
    assert decoded.size == (1000, 750)
    needed = cover_size((4000, 3000), (832, 480), "crop")
    assert decoded.width >= needed[0] * 1000 / 4000
    assert decoded.height >= needed[1] * 750 / 3000


def test_rotated_jpeg_is_drafted_for_the_shown_orientation(tmp_path: Path) -> None:
    # Stored 4000x3000 landscape, shown as portrait: a 480x832 output needs 480 stored rows.
    src = make_image(tmp_path / "phone.jpg", (4000, 3000), "JPEG", orientation=6)
    with open_image(src) as image:
        draft(image, (480, 832), "crop")
        assert image.size == (1000, 750)
        decoded = decode_rgb(image, (480, 832), "crop", "That file")
    assert decoded.size == (750, 1000)


async def test_budget_counts_a_jpeg_at_its_decoded_size(tmp_path: Path) -> None:
    # 12 megapixels stored, 0.75 decoded: within a 1-megapixel budget. The same size as a PNG
    # (its header alone) is over it, and refused before its pixel data is read.
    limits = Limits(min_side=64, max_total_pixels=1_000_000)
    jpeg = _jpeg(tmp_path / "big.jpg", (4000, 3000))
    result = await prepare_image(jpeg, tmp_path / "out.png", width=832, height=480,
                                 follow_orientation=True, fit="crop", limits=limits)  # fmt: skip
    assert (result.source_width, result.source_height) == (4000, 3000)
    png = make_png_header(tmp_path / "big.png", 4000, 3000)
    with pytest.raises(InputError, match=r"Your photo would bring"):
        await prepare_image(png, tmp_path / "out.png", width=832, height=480,
                            follow_orientation=True, fit="crop", limits=limits)  # fmt: skip


def test_large_png_is_reduced_before_conversion(tmp_path: Path) -> None:
    src = make_image(tmp_path / "big.png", (3400, 2000), "PNG")
    with open_image(src) as image:
        decoded = decode_rgb(image, (832, 480), "crop", "That file")
    # Box-reduced by 2 (not below twice the needed size), then resized by the caller.
    assert decoded.size == (1700, 1000)


async def test_zip_with_a_corrupted_member_is_refused_politely(tmp_path: Path) -> None:
    frame = make_image(tmp_path / "f.png", (320, 200))
    src = tmp_path / "pose.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(frame, "f1.png")
    data = bytearray(src.read_bytes())
    data[30 + len("f1.png")] ^= 0xFF  # after the local header: an invalid deflate block type
    src.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"^f1\.png in your pose zip cannot be unpacked\."):
        await prepare_frames([src], tmp_path / "pose.mp4", width=160, height=96, fps=16.0,
                             limits=Limits())  # fmt: skip
