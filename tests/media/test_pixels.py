"""Every image mode keeps its picture: files through `prepare_image`, in-memory-only modes
(no accepted format stores them) through the same `to_rgb` the normalizer uses."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from bot.config import Limits
from bot.media.images import prepare_image
from bot.media.pixels import to_rgb

SIZE = (640, 400)
DARK = 40


def gradient() -> Image.Image:
    """8-bit grey, black at the left edge to white at the right."""
    return Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(SIZE)


def wide(scale: float, offset: float = 0.0) -> Image.Image:
    """The gradient as mode I, each value v turned into v * scale + offset."""
    return gradient().convert("I").point(lambda v: v * scale + offset)


def floats(scale: float, offset: float = 0.0) -> Image.Image:
    return gradient().convert("F").point(lambda v: v * scale + offset)


def sixteen_bit(raw_mode: str) -> Image.Image:
    """The gradient as 16-bit samples in `raw_mode` ("I;16B" big-endian, "I;16L" little)."""
    samples = array("H", wide(257).convert("I;16").tobytes())  # I;16 is little-endian
    if raw_mode == "I;16B":
        samples.byteswap()
    return Image.frombytes(raw_mode, SIZE, samples.tobytes())


def strip_mean(image: Image.Image, left: float) -> float:
    """Mean grey of a vertical strip 5% wide starting at `left` (a share of the width)."""
    x = round(image.width * left)
    strip = image.convert("L").crop((x, 0, x + image.width // 20, image.height))
    return float(ImageStat.Stat(strip).mean[0])


def assert_gradient(image: Image.Image) -> None:
    left, middle, right = (strip_mean(image, at) for at in (0.02, 0.47, 0.93))
    assert left < 40, (left, middle, right)
    assert 90 < middle < 170, (left, middle, right)
    assert right > 215, (left, middle, right)


# Modes a JPEG, PNG or GIF can carry, written with Pillow and read back by the normalizer.
FILE_MODES: dict[str, tuple[Callable[[], Image.Image], str]] = {
    "1": (lambda: gradient().convert("1"), "PNG"),
    "L": (gradient, "PNG"),
    "L (JPEG)": (gradient, "JPEG"),
    "I;16 (16-bit PNG)": (lambda: wide(257).convert("I;16"), "PNG"),
    "P": (lambda: gradient().convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
    "P (GIF)": (lambda: gradient().convert("P"), "GIF"),
    "LA": (lambda: gradient().convert("LA"), "PNG"),
    "RGBA": (lambda: gradient().convert("RGBA"), "PNG"),
    "CMYK (JPEG, Adobe inverted)": (lambda: gradient().convert("RGB").convert("CMYK"), "JPEG"),
}

# Modes only Pillow itself makes (or TIFF, which is not accepted): straight to the normalizer.
MEMORY_MODES: dict[str, Callable[[], Image.Image]] = {
    "I;16": lambda: wide(257).convert("I;16"),
    "I;16B": lambda: sixteen_bit("I;16B"),
    "I;16L": lambda: sixteen_bit("I;16L"),
    "I (16-bit values)": lambda: wide(257),
    "I (any range)": lambda: wide(-1000, 200_000).transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "F (0..1)": lambda: floats(1 / 255),
    "F (0..255)": lambda: floats(1),
    "F (any range)": lambda: floats(4.0, -500.0),
    "La": lambda: gradient().convert("LA").convert("La"),
    "RGBa": lambda: gradient().convert("RGBA").convert("RGBa"),
    "PA": lambda: gradient().convert("PA"),
    "YCbCr": lambda: gradient().convert("RGB").convert("YCbCr"),
    "LAB": lambda: gradient().convert("RGB").convert("LAB"),
    "HSV": lambda: gradient().convert("RGB").convert("HSV"),
}


@pytest.mark.parametrize("case", list(FILE_MODES))
async def test_file_in_every_mode_keeps_its_gradient(
    tmp_path: Path, limits: Limits, case: str
) -> None:
    build, fmt = FILE_MODES[case]
    image = build()
    src = tmp_path / f"in.{fmt.lower()}"
    image.save(src, format=fmt)
    with Image.open(src) as check:
        assert check.mode == image.mode or fmt != "PNG"
    result = await prepare_image(
        src, tmp_path / "out.png", width=832, height=480, follow_orientation=True, fit="crop",
        limits=limits,
    )  # fmt: skip
    with Image.open(result.path) as out:
        assert out.mode == "RGB"
        assert_gradient(out)


@pytest.mark.parametrize("case", list(MEMORY_MODES))
def test_image_in_every_mode_keeps_its_gradient(case: str) -> None:
    image = MEMORY_MODES[case]()
    out = to_rgb(image)
    assert out.mode == "RGB"
    assert out.size == image.size
    assert_gradient(out)


def test_sixteen_bit_dark_picture_stays_dark() -> None:
    # A 16-bit picture that only uses the bottom quarter of its range is a dark picture.
    out = to_rgb(wide(64).convert("I;16"))
    assert strip_mean(out, 0.93) < 70


def test_flat_float_picture_keeps_its_level() -> None:
    assert to_rgb(Image.new("F", (4, 4), 0.5)).getpixel((0, 0)) == (128, 128, 128)
    assert to_rgb(Image.new("F", (4, 4), 1e6)).getpixel((0, 0)) == (255, 255, 255)


def _half_transparent(mode: str) -> Image.Image:
    """Left half transparent, right half dark grey, as `mode` ("RGBA", "LA")."""
    image = Image.new("RGBA", SIZE, (255, 0, 0, 0))
    image.paste((DARK, DARK, DARK, 255), (SIZE[0] // 2, 0, *SIZE))
    return image if mode == "RGBA" else image.convert(mode)


def _palette(transparency: int | bytes) -> tuple[Image.Image, dict[str, object]]:
    """Left half palette index 0 (red), right half index 1 (dark grey)."""
    image = Image.new("P", SIZE, 0)
    image.putpalette([255, 0, 0, DARK, DARK, DARK])
    image.paste(1, (SIZE[0] // 2, 0, *SIZE))
    return image, {"transparency": transparency}


def _valued(mode: str, clear: int | tuple[int, ...], dark: int | tuple[int, ...]) -> Image.Image:
    image = Image.new(mode, SIZE, clear)
    image.paste(dark, (SIZE[0] // 2, 0, *SIZE))
    return image


# (image, save options, format): the left half is transparent in every one.
TRANSPARENT: dict[str, Callable[[], tuple[Image.Image, dict[str, object], str]]] = {
    "RGBA": lambda: (_half_transparent("RGBA"), {}, "PNG"),
    "RGBA (WebP)": lambda: (_half_transparent("RGBA"), {"lossless": True}, "WEBP"),
    "LA": lambda: (_half_transparent("LA"), {}, "PNG"),
    "P, transparent index": lambda: (*_palette(0), "PNG"),
    "P, palette alpha": lambda: (*_palette(bytes([0, 255])), "PNG"),
    "P, GIF transparency": lambda: (*_palette(0), "GIF"),
    "L, transparent grey": lambda: (_valued("L", 7, DARK), {"transparency": 7}, "PNG"),
    "RGB, transparent colour": lambda: (
        _valued("RGB", (1, 2, 3), (DARK,) * 3),
        {"transparency": (1, 2, 3)},
        "PNG",
    ),
    "I;16, transparent value": lambda: (
        _valued("I;16", 5000, DARK * 257),
        {"transparency": 5000},
        "PNG",
    ),
}


@pytest.mark.parametrize("case", list(TRANSPARENT))
async def test_transparency_of_every_kind_is_white(
    tmp_path: Path, limits: Limits, case: str
) -> None:
    image, options, fmt = TRANSPARENT[case]()
    src = tmp_path / f"in.{fmt.lower()}"
    image.save(src, format=fmt, **options)  # type: ignore[arg-type]
    result = await prepare_image(
        src, tmp_path / "out.png", width=640, height=400, follow_orientation=False, fit="crop",
        limits=limits,
    )  # fmt: skip
    with Image.open(result.path) as out:
        assert strip_mean(out, 0.1) > 250
        assert abs(strip_mean(out, 0.8) - DARK) < 3


@pytest.mark.parametrize("mode", ["La", "RGBa", "PA"])
def test_premultiplied_and_palette_alpha_in_memory_is_white(mode: str) -> None:
    straight = _half_transparent("LA" if mode == "La" else "RGBA")
    out = to_rgb(straight.convert(mode))
    assert strip_mean(out, 0.1) > 250
    assert abs(strip_mean(out, 0.8) - DARK) < 3
