"""What Wan needs of parameter values beyond their range: bounds read from the config or from
another parameter, and the rules that round values (frames 4n+1, sides divisible by 16) or
refuse them, noting each adjustment. `bot.params` names them in its table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.config import Limits
from bot.errors import ParameterError


@dataclass(frozen=True)
class Limit:
    """A bound read from the config's `[limits]`, e.g. `Limit("max_steps")`."""

    key: str

    def __call__(self, limits: Limits, values: Mapping[str, Any]) -> float:
        bound: float = getattr(limits, self.key)
        return bound


@dataclass(frozen=True)
class Below:
    """A bound one below another parameter's value, e.g. `Below("frame_window")`."""

    key: str

    def __call__(self, limits: Limits, values: Mapping[str, Any]) -> float:
        bound: float = values[self.key] - 1
        return bound


# A bound is a fixed number, a `[limits]` key, or one below another parameter.
Bound = float | Limit | Below
# A rule adjusts or checks values after the range check: (values, limits, notes).
Rule = Callable[[dict[str, Any], Limits, list[str]], None]


def parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2:
        raise ValueError(text)
    return int(parts[0]), int(parts[1])


def parse_seconds(text: str) -> float:
    """A length in seconds: "30", "30s", "1.5m", "1m30s" or "1:30"."""
    word = text.strip().lower().replace(" ", "")
    if ":" in word:
        minutes, _, seconds = word.partition(":")
        return int(minutes) * 60 + float(seconds)
    if "m" in word:
        minutes, _, rest = word.partition("m")
        return float(minutes) * 60 + (parse_seconds(rest) if rest else 0.0)
    return float(word.removesuffix("s"))


def _number(value: float) -> str:
    """Integers as integers: the seed limit is 18446744073709551615, not 1.84467e+19."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def check_range(label: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ParameterError(
            f"{label} {_number(value)} is out of range: "
            f"use a value from {_number(low)} to {_number(high)}."
        )


def fit_frames(values: dict[str, Any], limits: Limits, notes: list[str]) -> None:
    wanted = values["frames"]
    frames = max(1, round((wanted - 1) / 4) * 4 + 1)
    if frames > limits.max_frames:
        frames -= 4
    if frames != wanted:
        notes.append(f"frames {wanted} rounded to {frames} (Wan needs 4n+1 frames).")
        values["frames"] = frames


def fit_size(values: dict[str, Any], limits: Limits, notes: list[str]) -> None:
    width, height = values["width"], values["height"]
    w16, h16 = (max(16, round(side / 16) * 16) for side in (width, height))
    if (w16, h16) != (width, height):
        notes.append(f"size {width}x{height} rounded to {w16}x{h16} (Wan needs multiples of 16).")
    if w16 * h16 > limits.max_pixels:
        raise ParameterError(
            f"size {w16}x{h16} is too large: at most {limits.max_pixels} pixels "
            f"(for example 1280x720 or 832x480)."
        )
    values["width"], values["height"] = w16, h16


def window_4n1(values: dict[str, Any], limits: Limits, notes: list[str]) -> None:
    window = values["frame_window"]
    if (window - 1) % 4:
        raise ParameterError(f"window {window} must be 4n+1 (for example 77 or 81).")


def split_steps(values: dict[str, Any], limits: Limits, notes: list[str]) -> None:
    """The fast preset's split: strictly inside the steps (the sampler refuses otherwise);
    0 means half of them. Other jobs have no split."""
    if values.get("quality") != "fast":
        if values.get("split"):
            raise ParameterError(
                "--split applies to --quality fast only: add --quality fast, or leave out --split."
            )
        values["split"] = 0
        return
    steps = values["steps"]
    if steps < 2:
        raise ParameterError(
            "The fast preset needs at least 2 steps, one for each expert: use --steps 4 to 8."
        )
    split = values.get("split") or steps // 2
    if not 0 < split < steps:
        raise ParameterError(
            f"split {split} must be from 1 to {steps - 1}: each of the two experts needs at "
            f"least one of the {steps} steps."
        )
    values["split"] = split
