"""Reading still images: headers checked before any pixel is decoded, decoding no larger than
the job needs, and one pixel budget per job.

`open_image` reads only the header and refuses a decompression bomb by its declared size.
`draft` lets a JPEG decode at 1/2, 1/4 or 1/8 scale when that still covers the output size,
and `decode_rgb` box-reduces other formats to about twice that size before converting, so a
64-megapixel photo never exists in several full-size copies. `PixelBudget` counts the pixels a
job decodes (at the drafted size) against `limits.max_total_pixels`; a set of frames is
counted from its headers before the first one is decoded.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from PIL import Image, UnidentifiedImageError

from bot.errors import InputError
from bot.media.pixels import to_rgb
from bot.media.units import pixels_apart

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
FORMATS_TEXT = "JPEG, PNG, WebP or GIF"
# Our own decompression-bomb limit: well above any phone camera (about 50 MP) and below
# Pillow's default warning threshold (about 89 MP), so one clear rule decides.
MAX_SOURCE_PIXELS = 64_000_000
ORIENTATION = 0x0112
# EXIF orientation -> the transpose that shows the picture upright (5 to 8 swap the sides).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SWAPS_SIDES = frozenset({5, 6, 7, 8})
# Modes whose samples may be averaged before conversion: no palette indices, no hue angles,
# and (checked separately) no single transparent value that averaging would smear.
REDUCIBLE = frozenset({"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "I", "F"})
# Box-reduce only down to this many times the needed size; LANCZOS does the rest smoothly.
REDUCING_GAP = 2

Fit = Literal["crop", "pad"]


@dataclass
class PixelBudget:
    """The pixels one job may decode from still images (`limits.max_total_pixels`)."""

    limit: int
    used: int = 0

    def take(self, pixels: int, what: str, size: tuple[int, int]) -> None:
        """Count `pixels` for `what` ("Your pose frames"); InputError past the limit.

        `size` is the video size, named in the refusal as the most a picture needs to be.
        """
        total = self.used + pixels
        if total > self.limit:
            total_str, limit_str = pixels_apart(total, self.limit)
            raise InputError(
                f"{what} would bring this job's images to {total_str}; the limit is "
                f"{limit_str} per job. Please send smaller images (the video is "
                f"{size[0]}x{size[1]}, so that size is enough) or fewer of them."
            )
        self.used = total


@contextmanager
def _reading(name: str) -> Iterator[None]:
    """Turn Pillow's failures while reading `name` into InputErrors that start with it."""
    try:
        # Pillow only *warns* between its two bomb thresholds; make that an error here so the
        # outcome does not depend on the process's warning filters. catch_warnings is
        # process-wide; a concurrent call at worst also sees this stricter filter, and every
        # caller handles the error.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(_bomb_message(name)) from exc
    except UnidentifiedImageError as exc:
        raise InputError(
            f"{name} is not an image I can read ({FORMATS_TEXT}). Please send a photo."
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(
            f"{name} looks like an image but is damaged or cut short. Please send it again."
        ) from exc


def _bomb_message(name: str, size: tuple[int, int] | None = None) -> str:
    dims = f" ({size[0]}x{size[1]})" if size else ""
    return (
        f"{name} has far too many pixels{dims}; the limit is {MAX_SOURCE_PIXELS // 1_000_000} "
        "megapixels. Please send a smaller photo."
    )


def open_image(fp: Path | IO[bytes], name: str = "That file") -> Image.Image:
    """Open one image lazily: only its header is read, and checked against the bomb limit.

    `name` starts every error message, e.g. "That file" or "frame_003.png in your zip". The
    caller closes the image.
    """
    with _reading(name):
        image = Image.open(fp, formats=FORMATS)
    if image.width * image.height > MAX_SOURCE_PIXELS:
        image.close()
        raise InputError(_bomb_message(name, image.size))
    return image


def is_still_image(src: Path) -> bool:
    """Whether `src` is an image of one frame (an animated GIF or WebP is a clip)."""
    try:
        with open_image(src) as image, _reading("That file"):
            return getattr(image, "n_frames", 1) == 1
    except InputError:
        return False


def _orientation(image: Image.Image, name: str) -> int:
    # A PNG whose EXIF follows the pixel data is decoded to find it; other formats keep EXIF
    # in the header.
    with _reading(name):
        value = image.getexif().get(ORIENTATION, 1)
    return value if isinstance(value, int) else 1


def shown_size(image: Image.Image, name: str = "That file") -> tuple[int, int]:
    """The size of `image` as shown, after its EXIF orientation."""
    width, height = image.size
    if _orientation(image, name) in SWAPS_SIDES:
        return height, width
    return width, height


def cover_size(size: tuple[int, int], target: tuple[int, int], fit: Fit) -> tuple[int, int]:
    """The least of `size`, aspect kept, that `fit` can bring to `target` without upscaling."""
    width, height = size
    scales = (target[0] / width, target[1] / height)
    scale = min(1.0, max(scales) if fit == "crop" else min(scales))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _stored(image: Image.Image, target: tuple[int, int], name: str) -> tuple[int, int]:
    """`target` (as shown) turned to the orientation the pixels are stored in."""
    if _orientation(image, name) in SWAPS_SIDES:
        return target[1], target[0]
    return target


def draft(image: Image.Image, target: tuple[int, int], fit: Fit, name: str = "That file") -> None:
    """Let a JPEG decode at the smallest 1/2, 1/4 or 1/8 scale that still covers `target`.

    Call it before decoding; `image.size` is the size that will be decoded afterwards. Other
    formats cannot decode at a smaller scale and are left as they are.
    """
    if image.format != "JPEG":
        return
    needed = cover_size(image.size, _stored(image, target, name), fit)
    with _reading(name):
        image.draft(image.mode, needed)


def _reduced(image: Image.Image, target: tuple[int, int], fit: Fit) -> Image.Image:
    needed = cover_size(image.size, target, fit)
    factor = min(
        image.width // (needed[0] * REDUCING_GAP), image.height // (needed[1] * REDUCING_GAP)
    )
    return image.reduce(factor) if factor >= 2 else image


def decode_rgb(image: Image.Image, target: tuple[int, int], fit: Fit, name: str) -> Image.Image:
    """Decode the opened `image` upright in RGB, reduced towards what `target` needs.

    The result is at least `cover_size` of `target`, so the final resize only ever shrinks.
    """
    with _reading(name):
        image.load()
        orientation = _orientation(image, name)
        stored = _stored(image, target, name)
        if image.mode in REDUCIBLE and "transparency" not in image.info:
            image = _reduced(image, stored, fit)
        rgb = _reduced(to_rgb(image), stored, fit)
        method = UPRIGHT.get(orientation)
        return rgb.transpose(method) if method is not None else rgb


def measure(fp: Path | IO[bytes], name: str, target: tuple[int, int], fit: Fit) -> int:
    """The pixels decoding the image in `fp` for `target` costs, read from its header."""
    with open_image(fp, name) as image:
        draft(image, target, fit, name)
        return image.width * image.height
