"""Turn whatever photo a user sent into the exact PNG a Wan workflow wants.

Accepted: JPEG, PNG, WebP and the first frame of a GIF. EXIF orientation is applied, the image
is converted to RGB (transparent areas become white: stickers and logos are drawn for light
chat backgrounds, and white reads better than black behind a cut-out subject), then resized
and centre-cropped (or padded with black bars) to exactly the target size.
"""

from __future__ import annotations

import asyncio
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.config import Limits
from bot.errors import InputError
from bot.media.units import sizes_apart

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
FORMATS_TEXT = "JPEG, PNG, WebP or GIF"
# Our own decompression-bomb limit: well above any phone camera (about 50 MP) and below
# Pillow's default warning threshold (about 89 MP), so one clear rule decides.
MAX_SOURCE_PIXELS = 64_000_000
# Within this aspect ratio a photo counts as square when the size follows the photo.
SQUARE_TOLERANCE = 1.2
ALPHA_BACKGROUND = (255, 255, 255)
PAD_COLOR = (0, 0, 0)

Fit = Literal["crop", "pad"]


@dataclass(frozen=True)
class PreparedImage:
    """The PNG written for the workflow and the size of the photo it came from."""

    path: Path
    width: int
    height: int
    source_width: int
    source_height: int


def check_file_size(src: Path, limit: int, what: str) -> int:
    """The size of `src`; InputError when it is empty or over `limit` bytes."""
    try:
        size = src.stat().st_size
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


def open_image(fp: Path | IO[bytes], name: str = "That file") -> Image.Image:
    """Open and fully load one image frame, turning every failure into an InputError.

    `name` starts the error message, e.g. "That file" or "frame_003.png in your zip".
    """
    not_image = f"{name} is not an image I can read ({FORMATS_TEXT}). Please send a photo."
    try:
        # Pillow only *warns* between its two bomb thresholds; make that an error here so the
        # outcome does not depend on the process's warning filters. catch_warnings is
        # process-wide; a concurrent call at worst also sees this stricter filter, and every
        # caller handles the error.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(fp, formats=FORMATS)
            try:
                _check_pixels(image, name)
                image.seek(0)
                image.load()
            except BaseException:
                image.close()
                raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(_bomb_message(name)) from exc
    except UnidentifiedImageError as exc:
        raise InputError(not_image) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(
            f"{name} looks like an image but is damaged or cut short. Please send it again."
        ) from exc
    return image


def _check_pixels(image: Image.Image, name: str) -> None:
    if image.width * image.height > MAX_SOURCE_PIXELS:
        raise InputError(_bomb_message(name, image.size))


def _bomb_message(name: str, size: tuple[int, int] | None = None) -> str:
    dims = f" ({size[0]}x{size[1]})" if size else ""
    return (
        f"{name} has far too many pixels{dims}; the limit is {MAX_SOURCE_PIXELS // 1_000_000} "
        "megapixels. Please send a smaller photo."
    )


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB copy of `image` with EXIF orientation applied and transparency flattened on white."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, ALPHA_BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


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


def _prepare(
    src: Path, dest: Path, width: int, height: int, follow: bool, fit: Fit, limits: Limits
) -> PreparedImage:
    check_file_size(src, limits.max_input_bytes, "image")
    with open_image(src) as opened:
        image = to_rgb(opened)
    source_width, source_height = image.size
    if min(image.size) < limits.min_side:
        raise InputError(
            f"That photo is too small ({source_width}x{source_height}); each side must be at "
            f"least {limits.min_side} pixels. Please send a larger photo."
        )
    out_w, out_h = target_size(width, height, source_width, source_height, follow)
    result = fit_to(image, out_w, out_h, fit)
    dest.parent.mkdir(parents=True, exist_ok=True)
    result.save(dest, format="PNG")
    return PreparedImage(dest, out_w, out_h, source_width, source_height)


async def prepare_image(
    src: Path,
    dest: Path,
    *,
    width: int,
    height: int,
    follow_orientation: bool,
    fit: Fit,
    limits: Limits,
) -> PreparedImage:
    """Check the photo at `src` and write it to `dest` as an RGB PNG of the target size.

    `follow_orientation` (the user did not set a size) turns width x height to match the
    photo; see `target_size`. Raises InputError for anything unusable: not an image, empty,
    over `limits.max_input_bytes`, a decompression bomb, or a side under `limits.min_side`.
    """
    return await asyncio.to_thread(
        _prepare, src, dest, width, height, follow_orientation, fit, limits
    )
