from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.config import Limits
from bot.errors import InputError
from bot.media.decode import MAX_SOURCE_PIXELS
from bot.media.images import prepare_image, target_size
from tests.media.conftest import make_image, make_png_header


async def _prepare(src: Path, tmp_path: Path, limits: Limits, **kwargs: object):
    args: dict[str, object] = dict(width=832, height=480, follow_orientation=True, fit="crop")
    args.update(kwargs)
    return await prepare_image(src, tmp_path / "out.png", limits=limits, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "mode", "suffix"),
    [
        ("JPEG", "RGB", "jpg"),
        ("PNG", "RGB", "png"),
        ("PNG", "RGBA", "png"),
        ("WEBP", "RGB", "webp"),
        ("GIF", "P", "gif"),
        ("JPEG", "L", "jpg"),
    ],
)
async def test_accepted_formats(
    tmp_path: Path, limits: Limits, fmt: str, mode: str, suffix: str
) -> None:
    src = make_image(tmp_path / f"in.{suffix}", (640, 400), fmt, mode)
    result = await _prepare(src, tmp_path, limits)
    assert (result.width, result.height) == (832, 480)
    assert (result.source_width, result.source_height) == (640, 400)
    with Image.open(result.path) as out:
        assert out.format == "PNG"
        assert out.mode == "RGB"
        assert out.size == (832, 480)


async def test_alpha_is_flattened_on_white(tmp_path: Path, limits: Limits) -> None:
    src = make_image(tmp_path / "in.png", (640, 400), "PNG", "RGBA")  # left half transparent
    result = await _prepare(src, tmp_path, limits)
    with Image.open(result.path) as out:
        assert out.getpixel((50, 240)) == (255, 255, 255)
        assert out.getpixel((800, 240)) == (0, 0, 255)


async def test_animated_gif_uses_first_frame(tmp_path: Path, limits: Limits) -> None:
    frames = [Image.new("RGB", (300, 200), color) for color in ("green", "red", "blue")]
    src = tmp_path / "anim.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:], duration=100)
    result = await _prepare(src, tmp_path, limits)
    with Image.open(result.path) as out:
        red, green, blue = out.getpixel((400, 240))  # type: ignore[misc]
        assert green > 100
        assert red < 50
        assert blue < 50


async def test_exif_orientation_6_makes_portrait(tmp_path: Path, limits: Limits) -> None:
    # Stored landscape, but orientation 6 means "rotate 90° clockwise to display".
    src = make_image(tmp_path / "phone.jpg", (640, 480), "JPEG", orientation=6)
    result = await _prepare(src, tmp_path, limits)
    assert (result.source_width, result.source_height) == (480, 640)
    assert (result.width, result.height) == (480, 832)
    with Image.open(result.path) as out:
        assert out.size == (480, 832)
        # The red left half ends up on top after rotating clockwise.
        assert out.getpixel((240, 100))[0] > 200  # type: ignore[index]
        assert out.getpixel((240, 700))[2] > 200  # type: ignore[index]


@pytest.mark.parametrize(
    ("source", "follow", "expected"),
    [
        ((1200, 800), True, (832, 480)),
        ((800, 1200), True, (480, 832)),
        ((1000, 1000), True, (624, 624)),
        ((800, 1200), False, (832, 480)),
    ],
)
async def test_orientation_and_explicit_size(
    tmp_path: Path,
    limits: Limits,
    source: tuple[int, int],
    follow: bool,
    expected: tuple[int, int],
) -> None:
    src = make_image(tmp_path / "in.jpg", source, "JPEG")
    result = await _prepare(src, tmp_path, limits, follow_orientation=follow)
    assert (result.width, result.height) == expected
    with Image.open(result.path) as out:
        assert out.size == expected


def test_square_size_keeps_pixel_count_and_divisible_by_16() -> None:
    width, height = target_size(832, 480, 1000, 1000, True)
    assert width == height
    assert width % 16 == 0
    assert abs(width * height - 832 * 480) / (832 * 480) < 0.1


async def test_pad_keeps_whole_picture(tmp_path: Path, limits: Limits) -> None:
    src = make_image(tmp_path / "in.png", (400, 400), "PNG")
    result = await _prepare(src, tmp_path, limits, follow_orientation=False, fit="pad")
    with Image.open(result.path) as out:
        assert out.getpixel((5, 240)) == (0, 0, 0)  # black bar
        assert out.getpixel((300, 240))[0] > 200  # type: ignore[index]


async def test_rejects_text_file_named_png(tmp_path: Path, limits: Limits, text_file: Path) -> None:
    with pytest.raises(InputError, match="not an image I can read"):
        await _prepare(text_file, tmp_path, limits)
    assert not (tmp_path / "out.png").exists()


async def test_rejects_empty_file(tmp_path: Path, limits: Limits) -> None:
    src = tmp_path / "empty.jpg"
    src.touch()
    with pytest.raises(InputError, match="empty"):
        await _prepare(src, tmp_path, limits)


async def test_rejects_over_byte_limit(tmp_path: Path) -> None:
    src = make_image(tmp_path / "big.png", (800, 800), "PNG")
    limits = Limits(max_input_bytes=1024)
    with pytest.raises(InputError, match="too large"):
        await _prepare(src, tmp_path, limits)


@pytest.mark.parametrize(
    "size",
    [
        (9000, 9000),  # over our limit, under Pillow's warning threshold
        (10000, 10000),  # Pillow warns (an error under pytest's filter too)
        (20000, 20000),  # Pillow raises DecompressionBombError
    ],
)
async def test_rejects_decompression_bomb(
    tmp_path: Path, limits: Limits, size: tuple[int, int]
) -> None:
    assert size[0] * size[1] > MAX_SOURCE_PIXELS
    src = make_png_header(tmp_path / "bomb.png", *size)
    with pytest.raises(InputError, match="too many pixels"):
        await _prepare(src, tmp_path, limits)


async def test_rejects_too_small(tmp_path: Path, limits: Limits) -> None:
    src = make_image(tmp_path / "tiny.png", (200, 40), "PNG")
    with pytest.raises(InputError, match="too small"):
        await _prepare(src, tmp_path, limits)


async def test_rejects_truncated_image(tmp_path: Path, limits: Limits) -> None:
    whole = make_image(tmp_path / "whole.jpg", (640, 480), "JPEG")
    src = tmp_path / "cut.jpg"
    src.write_bytes(whole.read_bytes()[:300])
    with pytest.raises(InputError, match="damaged"):
        await _prepare(src, tmp_path, limits)
