"""Any Pillow image mode to the 8-bit RGB picture it shows, transparency flattened on white.

Pillow's own conversion clips deep modes to 0..255, which turned a 16-bit grayscale PNG white.
Deep modes are scaled instead, by these rules:

- `I;16`, `I;16B`, `I;16L`, `I;16N` (16-bit samples, as in a 16-bit PNG): 0..65535 maps to
  0..255.
- `I` (32-bit integers; older Pillow versions open 16-bit PNGs so): values within 0..65535 are
  taken as 16-bit samples like above; any other range is stretched from its own minimum and
  maximum to 0..255.
- `F` (32-bit floats): values within 0..1 map to 0..255 (the usual convention for float
  pictures), values within 0..255 are kept, any other range is stretched from its own
  minimum and maximum.

Transparency of every kind is composited on white (stickers and logos are drawn for light chat
backgrounds): an alpha band (`RGBA`, `LA`, `PA`, and the premultiplied `RGBa` and `La`), and a
tRNS entry (a transparent palette index, palette alpha, or a transparent grey or colour value,
16-bit ones included). Colour spaces (`CMYK`, also Adobe's inverted CMYK JPEGs, which Pillow's
reader un-inverts; `YCbCr`, `LAB`, `HSV`) go through Pillow's conversion, without colour
management.
"""

from __future__ import annotations

import math

from PIL import Image, ImageChops

WHITE = (255, 255, 255)
SIXTEEN_BIT = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
DEEP = SIXTEEN_BIT | {"I", "F"}
SIXTEEN_BIT_MAX = 65535
# Premultiplied modes and the straight-alpha modes Pillow converts them to.
PREMULTIPLIED = {"RGBa": "RGBA", "La": "LA"}


def to_rgb(image: Image.Image) -> Image.Image:
    """An RGB copy of `image` (any mode) that keeps its picture; see the module's rules."""
    if image.mode in PREMULTIPLIED:
        image = image.convert(PREMULTIPLIED[image.mode])
    if image.mode in DEEP:
        return _flatten(_deep_to_l(image).convert("RGB"), _value_mask(image))
    if not image.has_transparency_data:
        return image.convert("RGB")
    try:
        rgba = image.convert("RGBA")
    except ValueError:  # a mode Pillow cannot pair with its transparency: show it opaque
        return image.convert("RGB")
    return _flatten(rgba.convert("RGB"), rgba.getchannel("A"))


def _flatten(rgb: Image.Image, alpha: Image.Image | None) -> Image.Image:
    if alpha is None:
        return rgb
    flat = Image.new("RGB", rgb.size, WHITE)
    flat.paste(rgb, mask=alpha)
    return flat


def _stretch(image: Image.Image, low: float, high: float) -> Image.Image:
    """`image` (mode I or F) with low..high mapped linearly onto 0..255, as mode L."""
    if high <= low:  # one flat level: keep it where it lies within 0..255
        return Image.new("L", image.size, max(0, min(255, round(low))))
    scale = 255 / (high - low)
    offset = 0.5 - low * scale  # +0.5: round, not truncate, on the way to 8 bits
    return image.convert("F").point(lambda v: v * scale + offset).convert("L")


def _deep_to_l(image: Image.Image) -> Image.Image:
    if image.mode in SIXTEEN_BIT:
        return _stretch(image.convert("I"), 0, SIXTEEN_BIT_MAX)
    low, high = image.getextrema()
    assert isinstance(low, int | float) and isinstance(high, int | float)
    if not (math.isfinite(low) and math.isfinite(high)):
        return image.convert("L")  # NaN or infinities: no range to scale by; clip
    if image.mode == "I" and low >= 0 and high <= SIXTEEN_BIT_MAX:
        return _stretch(image, 0, SIXTEEN_BIT_MAX)
    if image.mode == "F" and low >= 0 and high <= 1:
        return _stretch(image, 0, 1)
    if image.mode == "F" and low >= 0 and high <= 255:
        return _stretch(image, 0, 255)
    return _stretch(image, low, high)


def _value_mask(image: Image.Image) -> Image.Image | None:
    """For an integer image with a transparent value (tRNS): 0 where a pixel has it, else 255."""
    value = image.info.get("transparency")
    if image.mode == "F" or not isinstance(value, int):
        return None
    wide = image.convert("I")
    # Converting I to L clips, so each difference is 0 exactly on one side of the value.
    above = wide.point(lambda v: v - value).convert("L")
    below = wide.point(lambda v: value - v).convert("L")
    return ImageChops.lighter(above, below).point(lambda v: 255 if v else 0)
