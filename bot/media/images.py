"""Turn whatever photo a user sent into the exact PNG a Wan workflow wants.

Accepted: JPEG, PNG, WebP and the first frame of a GIF, in any pixel mode (`bot.media.pixels`:
16-bit and float pictures are scaled, transparent areas become white). EXIF orientation is
applied, the image is decoded no larger than needed (`bot.media.decode`), then resized and
centre-cropped (or padded with black bars) to exactly the target size.
"""

from __future__ import annotations

import asyncio
import math
import stat
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from bot.config import Limits
from bot.errors import InputError
from bot.media.decode import Fit, PixelBudget, decode_rgb, draft, open_image, shown_size
from bot.media.units import sizes_apart

# Within this aspect ratio a photo counts as square when the size follows the photo.
SQUARE_TOLERANCE = 1.2
PAD_COLOR = (0, 0, 0)


@dataclass(frozen=True)
class PreparedImage:
    """The PNG written for the workflow and the size of the photo it came from."""

    path: Path
    width: int
    height: int
    source_width: int
    source_height: int


def check_file_size(src: Path, limit: int, what: str) -> int:
    """The size of `src`; InputError when it is not a regular file, empty or over `limit` bytes.

    A file whose size reads 0 may still have content (`/proc` files): it is measured by
    reading it, up to just over `limit`.
    """
    try:
        info = src.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"The {what} ({src.name}) is not a regular file but a device, pipe or folder: "
                "please give a file."
            )
        size = info.st_size or _measured(src, limit)
    except OSError as exc:
        raise InputError(f"I could not read the {what} you sent. Please send it again.") from exc
    if size == 0:
        raise InputError(f"The {what} you sent is empty (0 bytes). Please send it again.")
    if size > limit:
        size_str, limit_str = sizes_apart(size, limit)
        raise InputError(
            f"The {what} is too large ({size_str}); the limit is {limit_str}. "
            "Please send a smaller file."
        )
    return size


def _measured(src: Path, limit: int) -> int:
    """The bytes `src` gives when read, counted up to `limit + 1` (enough to refuse it)."""
    size = 0
    with src.open("rb") as file:
        while size <= limit and (chunk := file.read(min(1 << 20, limit + 1 - size))):
            size += len(chunk)
    return size


def fit_to(image: Image.Image, width: int, height: int, fit: Fit) -> Image.Image:
    """`image` scaled and centre-cropped (or padded) to exactly width x height."""
    if fit == "pad":
        return ImageOps.pad(image, (width, height), Image.Resampling.LANCZOS, PAD_COLOR)
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)


def _round16(value: float) -> int:
    return max(16, round(value / 16) * 16)


def target_size(
    width: int, height: int, source_width: int, source_height: int, follow_orientation: bool
) -> tuple[int, int]:
    """The output size: as asked, or turned to follow the photo's orientation.

    With `follow_orientation` a portrait photo gets the long side vertical, a landscape one
    horizontal, and a roughly square one (within 1:1.2) a square of about the same pixel count
    with sides divisible by 16.
    """
    if not follow_orientation:
        return width, height
    long_side, short_side = max(width, height), min(width, height)
    ratio = source_width / source_height
    if ratio >= SQUARE_TOLERANCE:
        return long_side, short_side
    if ratio <= 1 / SQUARE_TOLERANCE:
        return short_side, long_side
    side = _round16(math.sqrt(width * height))
    return side, side


def _check_min_side(size: tuple[int, int], limits: Limits) -> None:
    if min(size) < limits.min_side:
        raise InputError(
            f"That photo is too small ({size[0]}x{size[1]}); each side must be at least "
            f"{limits.min_side} pixels. Please send a larger photo."
        )


def _prepare(
    src: Path,
    dest: Path,
    size: tuple[int, int],
    follow: bool,
    fit: Fit,
    limits: Limits,
    budget: PixelBudget,
) -> PreparedImage:
    check_file_size(src, limits.max_input_bytes, "image")
    with open_image(src) as image:
        jpeg = image.format == "JPEG"
        if not jpeg:
            # Decoded at full size; and a PNG's EXIF may only be found by decoding it.
            budget.take(image.width * image.height, "Your photo", size)
        source = shown_size(image)
        _check_min_side(source, limits)
        out = target_size(*size, *source, follow)
        if jpeg:
            draft(image, out, fit)
            budget.take(image.width * image.height, "Your photo", out)
        rgb = decode_rgb(image, out, fit, "That file")
    result = fit_to(rgb, *out, fit)
    dest.parent.mkdir(parents=True, exist_ok=True)
    result.save(dest, format="PNG")
    return PreparedImage(dest, *out, *source)


async def prepare_image(
    src: Path,
    dest: Path,
    *,
    width: int,
    height: int,
    follow_orientation: bool,
    fit: Fit,
    limits: Limits,
    budget: PixelBudget | None = None,
) -> PreparedImage:
    """Check the photo at `src` and write it to `dest` as an RGB PNG of the target size.

    `follow_orientation` (the user did not set a size) turns width x height to match the
    photo; see `target_size`. The pixels decoded count against `budget` (the job's; by
    default a fresh one of `limits.max_total_pixels`). Raises InputError for anything
    unusable: not an image, empty, over `limits.max_input_bytes`, a decompression bomb, a side
    under `limits.min_side`, or over the budget.
    """
    if budget is None:
        budget = PixelBudget(limits.max_total_pixels)
    return await asyncio.to_thread(
        _prepare, src, dest, (width, height), follow_orientation, fit, limits, budget
    )
