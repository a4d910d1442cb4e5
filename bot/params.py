"""One parameter syntax for every front end.

`parse_command("a cat --steps 20 --size 480x832")` splits free text (the prompt) from flags.
`resolve_params` merges those flags over config and built-in defaults, validates them, and
rounds what Wan needs rounded (frames = 4n+1, sides divisible by 16), noting each adjustment
so the user is told; `resolve_again` does the same over an earlier request's parameters.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.config import Config
from bot.errors import ParameterError
from bot.request import COLOR_MATCH_CHOICES, JobRequest, Mode, Params

SEED_MAX = 2**64 - 1
DEFAULT_NEGATIVE = (
    "bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, "
    "images, static, overall gray, worst quality, low quality, JPEG compression residue, ugly, "
    "incomplete, extra fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, "
    "misshapen limbs, fused fingers, still picture, messy background, three legs, many people "
    "in the background, walking backwards"
)

# Built-in defaults per mode. unipc is the real WanVideoSampler's own schema default; the
# reference graphs' dpm++_sde goes with a step-distill LoRA that WanBot does not load.
_COMMON: dict[str, Any] = dict(
    width=832,
    height=480,
    frames=81,
    steps=30,
    cfg=6.0,
    shift=5.0,
    scheduler="unipc",
    denoise=1.0,
    fps=16.0,
)
BUILTIN_DEFAULTS: dict[Mode, dict[str, Any]] = {
    Mode.I2V: dict(_COMMON),
    # wav2vec audio embeddings are made at 25 fps.
    Mode.INFINITETALK: {**_COMMON, "fps": 25.0, "frame_window": 77, "motion_frame": 4},
    Mode.ANIMATE: {
        **_COMMON,
        "cfg": 7.0,
        "frame_window": 77,
        "pose_strength": 1.0,
        "face_strength": 1.0,
        "color_match": "disabled",
    },
}


@dataclass(frozen=True)
class Flag:
    field: str
    kind: Callable[[str], Any]
    help: str
    modes: frozenset[Mode] = frozenset(Mode)


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2:
        raise ValueError(text)
    return int(parts[0]), int(parts[1])


_MOVING = frozenset({Mode.INFINITETALK, Mode.ANIMATE})
FLAGS: dict[str, Flag] = {
    "steps": Flag("steps", int, "sampling steps, e.g. --steps 30"),
    "cfg": Flag("cfg", float, "guidance scale, e.g. --cfg 6"),
    "frames": Flag("frames", int, "video length in frames (4n+1), e.g. --frames 81"),
    "seed": Flag("seed", int, "random seed, e.g. --seed 42"),
    "size": Flag("size", _size, "WIDTHxHEIGHT, e.g. --size 832x480"),
    "scheduler": Flag("scheduler", str, "sampler scheduler, e.g. --scheduler unipc"),
    "shift": Flag("shift", float, "flow shift, e.g. --shift 5"),
    "neg": Flag("negative_prompt", str, 'negative prompt, e.g. --neg "blurry, static"'),
    "denoise": Flag("denoise", float, "denoise strength 0-1, e.g. --denoise 1"),
    "fps": Flag("fps", float, "frames per second of the video, e.g. --fps 16"),
    "window": Flag("frame_window", int, "frames per generation window, e.g. --window 77", _MOVING),
    "motion-frame": Flag(
        "motion_frame",
        int,
        "frames carried between windows, e.g. --motion-frame 4",
        frozenset({Mode.INFINITETALK}),
    ),
    "pose-strength": Flag(
        "pose_strength",
        float,
        "pose guidance 0-10, e.g. --pose-strength 1",
        frozenset({Mode.ANIMATE}),
    ),
    "face-strength": Flag(
        "face_strength",
        float,
        "face guidance 0-10, e.g. --face-strength 1",
        frozenset({Mode.ANIMATE}),
    ),
    "color-match": Flag(
        "color_match",
        str,
        "color matching: " + ", ".join(COLOR_MATCH_CHOICES),
        frozenset({Mode.ANIMATE}),
    ),
}
ALIASES = {
    "negative": "neg",
    "negative-prompt": "neg",
    "frame-window": "window",
    "motion": "motion-frame",
    "colormatch": "color-match",
    "color_match": "color-match",
    "pose_strength": "pose-strength",
    "face_strength": "face-strength",
    "step": "steps",
    "resolution": "size",
    "res": "size",
    "motion_frame": "motion-frame",
    "frame_window": "window",
}
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "'": "'"}
# Phones turn "--" into an em or en dash; accept those as the flag prefix too.
_DASHES = ("--", "—", "–")


@dataclass(frozen=True)
class ParsedCommand:
    """Free text and typed flag values from one command line."""

    prompt: str
    overrides: dict[str, Any] = field(default_factory=dict)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Whitespace-separated tokens; a token that opens with a quote runs to its closing quote.

    Apostrophes inside words ("cat's") are ordinary characters, which `shlex` would reject.
    Returns (token, was_quoted) pairs.
    """
    out: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        close = _QUOTES.get(text[i])
        if close is not None:
            end = text.find(close, i + 1)
            if end != -1 and (end + 1 == n or text[end + 1].isspace()):
                out.append((text[i + 1 : end], True))
                i = end + 1
                continue
        j = i
        while j < n and not text[j].isspace():
            j += 1
        out.append((text[i:j], False))
        i = j
    return out


def _flag_name(token: str) -> str | None:
    for dash in _DASHES:
        if token.startswith(dash) and len(token) > len(dash) and not token[len(dash)].isdigit():
            return token[len(dash) :].lower()
    return None


def _valid_flags_text(mode: Mode | None) -> str:
    names = [f"--{name}" for name, flag in FLAGS.items() if mode is None or mode in flag.modes]
    return ", ".join(names)


def lookup_flag(name: str, mode: Mode | None = None) -> tuple[str, Flag]:
    """The canonical name and definition of `--name`, or a `ParameterError` saying what is valid."""
    name = ALIASES.get(name.lower(), name.lower())
    flag = FLAGS.get(name)
    if flag is None:
        raise ParameterError(f"Unknown option --{name}. Valid options: {_valid_flags_text(mode)}.")
    if mode is not None and mode not in flag.modes:
        modes = " and ".join(m.value for m in Mode if m in flag.modes)
        raise ParameterError(f"--{name} only applies to {modes}, not to {mode.value}.")
    return name, flag


def convert_flag(name: str, value: str, mode: Mode | None = None) -> tuple[str, Any]:
    """Check one `--name value` pair; returns (Params field, typed value)."""
    name, flag = lookup_flag(name, mode)
    try:
        return flag.field, flag.kind(value)
    except ValueError:
        raise ParameterError(f"--{name} {value!r} is not valid: {flag.help}.") from None


def parse_command(text: str, mode: Mode | None = None) -> ParsedCommand:
    """Split `text` into the prompt and typed flag values.

    Raises `ParameterError` for unknown flags, missing values and values of the wrong type,
    listing what is valid.
    """
    prompt_words: list[str] = []
    overrides: dict[str, Any] = {}
    tokens = _tokens(text)
    i = 0
    while i < len(tokens):
        token, quoted = tokens[i]
        name = None if quoted else _flag_name(token)
        if name is None:
            prompt_words.append(token)
            i += 1
            continue
        value: str | None = None
        if "=" in name:
            name, value = name.split("=", 1)
        if value is None:
            if i + 1 >= len(tokens):
                name, flag = lookup_flag(name, mode)
                raise ParameterError(f"--{name} needs a value: {flag.help}.")
            value = tokens[i + 1][0]
            i += 1
        field_name, typed = convert_flag(name, value, mode)
        overrides[field_name] = typed
        i += 1
    return ParsedCommand(" ".join(prompt_words).strip(), overrides)


def _round_frames(frames: int) -> int:
    return max(1, round((frames - 1) / 4) * 4 + 1)


def _round16(value: int) -> int:
    return max(16, round(value / 16) * 16)


def _number(value: float) -> str:
    """Integers as integers: the seed limit is 18446744073709551615, not 1.84467e+19."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ParameterError(
            f"{name} {_number(value)} is out of range: "
            f"use a value from {_number(low)} to {_number(high)}."
        )


def require_text(what: str, text: str) -> None:
    """Refuse text that cannot be stored or sent as UTF-8.

    Lone surrogates come from a terminal that is not set to UTF-8: Python decodes such
    command-line bytes with `surrogateescape`. They would fail only later, in the archive.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParameterError(
            f"The {what} must be valid UTF-8 text, and this one has bytes that are not "
            "(is your terminal set to UTF-8?). Please type it again."
        ) from None


@dataclass(frozen=True)
class Resolved:
    params: Params
    negative_prompt: str
    notes: list[str]


def resolve_params(
    mode: Mode,
    overrides: dict[str, Any],
    config: Config,
    schedulers: Sequence[str],
) -> Resolved:
    """Merge built-in defaults, `[defaults.<mode>]` and `overrides`; validate and round.

    `schedulers` are the choices the host's `WanVideoSampler` accepts.
    """
    values: dict[str, Any] = dict(BUILTIN_DEFAULTS[mode])
    configured = getattr(config.defaults, mode.value).model_dump(exclude_none=True)
    negative = configured.pop("negative_prompt", DEFAULT_NEGATIVE)
    values.update(configured)
    values["size_from_user"] = False
    return _apply(mode, values, negative, overrides, config, schedulers)


def resolve_again(
    request: JobRequest,
    overrides: dict[str, Any],
    config: Config,
    schedulers: Sequence[str],
) -> Resolved:
    """An earlier request's parameters with `overrides` on top, validated and rounded again."""
    values = request.params.model_dump()
    return _apply(request.mode, values, request.negative_prompt, overrides, config, schedulers)


def _apply(
    mode: Mode,
    values: dict[str, Any],
    negative: str,
    overrides: dict[str, Any],
    config: Config,
    schedulers: Sequence[str],
) -> Resolved:
    overrides = dict(overrides)
    negative = overrides.pop("negative_prompt", negative)
    require_text("negative prompt", negative)
    size = overrides.pop("size", None)
    if size is not None:
        values["size_from_user"] = True
        values["width"], values["height"] = size
    values.update(overrides)
    notes: list[str] = []
    _check_numbers(values, config)
    _fit_frames(values, config, notes)
    _fit_size(values, config, notes)
    _check_mode(mode, values, schedulers)
    return Resolved(Params.model_validate(values), negative, notes)


def _check_numbers(values: dict[str, Any], config: Config) -> None:
    _check_range("steps", values["steps"], 1, config.limits.max_steps)
    _check_range("cfg", values["cfg"], 0, 30)
    _check_range("shift", values["shift"], 0, 100)
    _check_range("denoise", values["denoise"], 0.01, 1)
    _check_range("fps", values["fps"], 1, 60)
    seed = values.get("seed")
    if seed is None:
        values["seed"] = secrets.randbelow(2**48)
    else:
        _check_range("seed", seed, 0, SEED_MAX)


def _fit_frames(values: dict[str, Any], config: Config, notes: list[str]) -> None:
    limits = config.limits
    _check_range("frames", values["frames"], 1, limits.max_frames)
    frames = _round_frames(values["frames"])
    if frames > limits.max_frames:
        frames -= 4
    if frames != values["frames"]:
        notes.append(f"frames {values['frames']} rounded to {frames} (Wan needs 4n+1 frames).")
        values["frames"] = frames


def _fit_size(values: dict[str, Any], config: Config, notes: list[str]) -> None:
    limits = config.limits
    width, height = values["width"], values["height"]
    for side_name, side in (("width", width), ("height", height)):
        _check_range(side_name, side, limits.min_side, limits.max_side)
    w16, h16 = _round16(width), _round16(height)
    if (w16, h16) != (width, height):
        notes.append(f"size {width}x{height} rounded to {w16}x{h16} (Wan needs multiples of 16).")
    if w16 * h16 > limits.max_pixels:
        raise ParameterError(
            f"size {w16}x{h16} is too large: at most {limits.max_pixels} pixels "
            f"(for example 1280x720 or 832x480)."
        )
    values["width"], values["height"] = w16, h16


def _check_mode(mode: Mode, values: dict[str, Any], schedulers: Sequence[str]) -> None:
    if values["scheduler"] not in schedulers:
        raise ParameterError(
            f"scheduler {values['scheduler']!r} is not available. Choose one of: "
            f"{', '.join(schedulers)}."
        )
    if mode is not Mode.I2V:
        window = values["frame_window"]
        _check_range("window", window, 5, 1000)
        if (window - 1) % 4:
            raise ParameterError(f"window {window} must be 4n+1 (for example 77 or 81).")
        _check_range("motion frame", values.get("motion_frame", 4), 1, window - 1)
    if mode is Mode.ANIMATE:
        _check_range("pose strength", values["pose_strength"], 0, 10)
        _check_range("face strength", values["face_strength"], 0, 10)
        if values["color_match"] not in COLOR_MATCH_CHOICES:
            raise ParameterError(
                f"color match {values['color_match']!r} is not available. Choose one of: "
                f"{', '.join(COLOR_MATCH_CHOICES)}."
            )
