"""Sizes, durations and pixel counts as texts for people: "25 MB", "1 min 10 s", "64 megapixels".

Every message that states a byte count, a length in seconds or a pixel count uses these, so a
refusal, a note and a status line never round the same figure differently. Sizes count in
binary units (1 MB = 1024 KB = 1,048,576 bytes), as Telegram's limits and
`limits.max_input_bytes` do.
"""

from __future__ import annotations

import math

KB = 1024
MB = 1024 * 1024


def _number(value: float) -> str:
    """One decimal below 10 ("1.5", "3"), whole numbers from 10 on ("25"); never an exponent."""
    if round(value, 1) < 10:
        text = f"{value:.1f}"
        return text.removesuffix(".0")
    return f"{value:.0f}"


def size_text(size: int) -> str:
    """`size` bytes as e.g. "25 MB", "1.5 MB", "600 KB" or "512 bytes"."""
    if size < KB:
        return "1 byte" if size == 1 else f"{size} bytes"
    if size < MB:
        return f"{_number(size / KB)} KB"
    return f"{_number(size / MB)} MB"


def sizes_apart(size: int, limit: int) -> tuple[str, str]:
    """`size` and `limit` as texts that differ whenever the numbers do.

    "20 MB; the limit is 20 MB" for a file a few bytes over the limit would read as a
    contradiction, so such a pair falls back to exact byte counts.
    """
    size_str, limit_str = size_text(size), size_text(limit)
    if size_str == limit_str and size != limit:
        return f"{size:,} bytes", f"{limit:,} bytes"
    return size_str, limit_str


def pixels_text(pixels: int) -> str:
    """A pixel count as e.g. "64 megapixels" or "1.5 megapixels"."""
    return f"{_number(pixels / 1_000_000)} megapixels"


def pixels_apart(pixels: int, limit: int) -> tuple[str, str]:
    """`pixels` and `limit` as texts that differ whenever the numbers do (see `sizes_apart`)."""
    pixels_str, limit_str = pixels_text(pixels), pixels_text(limit)
    if pixels_str == limit_str and pixels != limit:
        return f"{pixels:,} pixels", f"{limit:,} pixels"
    return pixels_str, limit_str


def duration_text(seconds: float) -> str:
    """`seconds` as e.g. "2.5 s", "45 s", "1 min 10 s", "10 min" or "1 h 5 min".

    Under 10 s one decimal is kept; up to an hour whole seconds; from an hour on whole minutes.
    A figure that is no length at all (NaN, infinite) reads "unknown"; a negative one "0 s".
    """
    if not math.isfinite(seconds):
        return "unknown"
    seconds = max(0.0, seconds)
    if round(seconds, 1) < 10:
        return f"{_number(seconds)} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
