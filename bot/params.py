"""Every parameter a user may set, declared once in `PARAMS` (`bot.resolve` resolves them).

Each `Param` says its flag, type, default per mode, range (fixed, or read from the config's
`[limits]`) or choices (fixed, or the host's own `WanVideoSampler` schedulers), which modes it
applies to, and its help. The table drives the flag syntax (`bot.flags`), the CLI's options
and `--help`, validation here, and the chat front ends' help and typed options. A front end
with typed inputs (Discord's slash-command options: `app_commands.Range`, choices,
autocomplete) builds one option per `Param` in `PARAMS` whose `modes` hold the command's mode,
from `Param.value_type`, `Param.bounds(config.limits)` (None: unbounded),
`Param.allowed(scheduler_choices(object_info))` (empty: any value in range), `Param.help`
and `Param.default_for(mode)`; the values it gets (text through `Param.kind`, as the size's
"832x480") are the overrides for `resolve_params`, keyed by `Param.key`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.config import Limits
from bot.errors import ParameterError
from bot.param_rules import (
    Below,
    Bound,
    Limit,
    Rule,
    check_range,
    fit_frames,
    fit_size,
    parse_seconds,
    parse_size,
    split_steps,
    window_4n1,
)
from bot.request import COLOR_MATCH_CHOICES, QUALITY_CHOICES, Mode
from workflows.native import NATIVE_SCHEDULERS, has_wrapper
from workflows.schema import choices as schema_choices

SEED_MAX = 2**64 - 1  # the largest seed WanVideoSampler takes
SEED_RANDOM = 2**48  # random seeds are drawn below this: short enough to read and retype
DEFAULT_SCHEDULER = "unipc"  # the real WanVideoSampler's own default
DEFAULT_NEGATIVE = (
    "bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, "
    "images, static, overall gray, worst quality, low quality, JPEG compression residue, ugly, "
    "incomplete, extra fingers, poorly drawn hands, poorly drawn faces, deformed, disfigured, "
    "misshapen limbs, fused fingers, still picture, messy background, three legs, many people "
    "in the background, walking backwards"
)

SIZE_FIELDS = ("width", "height")  # the `Params` fields `--size WxH` sets
PRESET_KEYS = ("steps", "cfg", "shift", "scheduler")  # what `--quality` changes
# How many jobs to make, not a parameter of one: the engine (or the CLI) takes it out of the
# overrides before they are resolved (`take_batch`).
JOB_COUNT = ("batch",)


def _draw_seed(values: dict[str, Any], limits: Limits, notes: list[str]) -> None:
    if values.get("seed") is None:
        values["seed"] = random_seed()


ALL_MODES = frozenset(Mode)
I2V_ONLY = frozenset({Mode.I2V})
MOVING = frozenset({Mode.INFINITETALK, Mode.ANIMATE})
WINDOWED = MOVING | {Mode.ANIMATE2}  # made window by window (Animate-2: clip by clip)
TALK = frozenset({Mode.INFINITETALK})
ANIMATE = frozenset({Mode.ANIMATE})
POSED = frozenset({Mode.ANIMATE, Mode.ANIMATE2})  # a video's motion guides the person
# Modes whose length follows the media (the speech, the pose frames, the motion video), not
# `--frames`.
FRAMES_FROM_MEDIA = WINDOWED


@dataclass(frozen=True, eq=False)  # each entry is itself: hashable, a dict key
class Param:
    """One user parameter: `--name VALUE` sets `key` (a `Params` field, or "size").

    `low` and `high` bound the value (each side, for the size); `rule` then rounds or checks
    what a range cannot say (4n+1 frames, sides divisible by 16).
    """

    name: str
    key: str
    kind: Callable[[str], Any]
    help: str
    default: Any
    per_mode: Mapping[Mode, Any] = field(default_factory=dict)
    modes: frozenset[Mode] = ALL_MODES
    low: Bound | None = None
    high: Bound | None = None
    choices: tuple[str, ...] = ()
    host_choices: bool = False  # the choices are the host's (`scheduler_choices`)
    rule: Rule | None = None
    label: str = ""  # the name in messages, when not `name`
    metavar: str = "N"
    aliases: tuple[str, ...] = ()
    configurable: bool = True  # settable in `[defaults.<mode>]`
    unit: str = ""  # after the value where people read it ("81 frames", "16 fps")

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def value_type(self) -> type[int] | type[float] | type[str]:
        """The value's type for a typed option; the size is text ("832x480")."""
        if self.kind is int or self.kind is float:
            return self.kind
        return str

    def allowed(self, schedulers: Sequence[str]) -> Sequence[str]:
        """The values to choose from (none: any in range); `schedulers` are the host's."""
        return schedulers if self.host_choices else self.choices

    def default_for(self, mode: Mode) -> Any:
        return self.per_mode.get(mode, self.default)

    def bounds(
        self, limits: Limits, values: Mapping[str, Any] | None = None
    ) -> tuple[float, float] | None:
        """The allowed range under `limits` (None when the parameter has none).

        `values` are the other parameters resolved so far; a bound that depends on them
        (the motion frame is below the window) uses their defaults when they are not given.
        """
        if self.low is None or self.high is None:
            return None
        known = {p.key: p.default for p in PARAMS} | dict(values or {})
        return _bound(self.low, limits, known), _bound(self.high, limits, known)


def _bound(bound: Bound, limits: Limits, values: Mapping[str, Any]) -> float:
    return bound if isinstance(bound, int | float) else bound(limits, values)


PARAMS: tuple[Param, ...] = (
    Param("steps", "steps", int, "sampling steps, e.g. --steps 30", 30, {Mode.ANIMATE2: 6},
          low=1, high=Limit("max_steps"), aliases=("step",)),
    Param("quality", "quality", str,
          "fast (Wan2.2 with a step-distill LoRA pair, 4 steps) or standard (Wan2.1, 30 steps)",
          "standard", modes=I2V_ONLY, choices=QUALITY_CHOICES, metavar="NAME",
          aliases=("preset",)),
    Param("split", "split", int,
          "fast: the step where the low-noise expert takes over, e.g. --split 2", 0,
          modes=I2V_ONLY, rule=split_steps, configurable=False),
    Param("cfg", "cfg", float, "guidance scale, e.g. --cfg 6", 6.0,
          {Mode.ANIMATE: 7.0, Mode.ANIMATE2: 1.0},
          low=0, high=30, metavar="X"),
    Param("frames", "frames", int, "video length in frames (4n+1), e.g. --frames 81", 81,
          low=1, high=Limit("max_frames"), rule=fit_frames, unit="frames"),
    Param("length", "length", parse_seconds,
          "a longer video as a chain of clips, e.g. --length 30s", 0.0, modes=I2V_ONLY,
          low=0, high=Limit("max_length_seconds"), unit="s", metavar="SECONDS",
          configurable=False),
    Param("seed", "seed", int, "random seed, e.g. --seed 42", None,
          low=0, high=SEED_MAX, rule=_draw_seed, configurable=False),
    Param("size", "size", parse_size, "WIDTHxHEIGHT, e.g. --size 832x480", (832, 480),
          low=Limit("min_side"), high=Limit("max_side"), rule=fit_size, metavar="WxH",
          aliases=("resolution", "res"), unit="pixels"),
    Param("scheduler", "scheduler", str, "sampler scheduler, e.g. --scheduler unipc",
          DEFAULT_SCHEDULER, {Mode.ANIMATE2: "lcm"}, host_choices=True, metavar="NAME"),
    Param("shift", "shift", float, "flow shift, e.g. --shift 5", 5.0,
          low=0, high=100, metavar="X"),
    Param("neg", "negative_prompt", str, 'negative prompt, e.g. --neg "blurry, static"',
          DEFAULT_NEGATIVE, metavar="TEXT", aliases=("negative", "negative-prompt")),
    Param("denoise", "denoise", float, "denoise strength 0-1, e.g. --denoise 1", 1.0,
          low=0.01, high=1, metavar="X"),
    Param("fps", "fps", float, "frames per second of the video, e.g. --fps 16", 16.0,
          # wav2vec audio embeddings are made at 25 fps.
          {Mode.INFINITETALK: 25.0}, low=1, high=60, metavar="X", unit="fps"),
    Param("window", "frame_window", int, "frames per generation window, e.g. --window 77", 77,
          {Mode.ANIMATE2: 81}, modes=WINDOWED, low=5, high=1000, rule=window_4n1,
          aliases=("frame-window", "frame_window"), unit="frames"),
    Param("motion-frame", "motion_frame", int,
          "frames carried between windows, e.g. --motion-frame 4", 4, modes=TALK,
          low=1, high=Below("frame_window"), label="motion frame",
          aliases=("motion", "motion_frame"), unit="frames"),
    Param("pose-strength", "pose_strength", float, "pose guidance 0-10, e.g. --pose-strength 1",
          1.0, modes=POSED, low=0, high=10, label="pose strength", metavar="X",
          aliases=("pose_strength",)),
    Param("face-strength", "face_strength", float, "face guidance 0-10, e.g. --face-strength 1",
          1.0, modes=ANIMATE, low=0, high=10, label="face strength", metavar="X",
          aliases=("face_strength",)),
    Param("batch", "batch", int, "jobs with consecutive seeds, e.g. --batch 4", 1,
          low=1, high=Limit("max_batch"), configurable=False),
    Param("color-match", "color_match", str, "color matching: " + ", ".join(COLOR_MATCH_CHOICES),
          "disabled", modes=ANIMATE, choices=COLOR_MATCH_CHOICES, label="color match",
          metavar="NAME", aliases=("colormatch", "color_match")),
)  # fmt: skip
_BY_NAME: dict[str, Param] = {name: p for p in PARAMS for name in (p.name, *p.aliases)}


def find_param(name: str) -> Param | None:
    """The parameter `--name` (or one of its aliases) sets."""
    return _BY_NAME.get(name.lower())


def take_batch(overrides: dict[str, Any], limits: Limits) -> int:
    """Remove `batch` from `overrides`; how many jobs to make, checked against the limit."""
    count = int(overrides.pop("batch", 1))
    check_range("batch", count, 1, limits.max_batch)
    return count


def batch_seeds(count: int, given: int | None) -> list[int | None]:
    """The seeds of `count` jobs of one request: consecutive from `given` (or a random one)
    for a batch; one job keeps `given` (None: drawn when it is resolved)."""
    if count == 1:
        return [given]
    first = random_seed() if given is None else int(given)
    if first + count - 1 > SEED_MAX:
        raise ParameterError(f"seed {first} leaves no room for {count} seeds after it.")
    return [first + index for index in range(count)]


def random_seed() -> int:
    return secrets.randbelow(SEED_RANDOM)


def scheduler_choices(object_info: Mapping[str, Any]) -> list[str]:
    """The schedulers a host's `WanVideoSampler` offers; unipc if its schema lists none.

    A schema without the sampler (ComfyUI-WanVideoWrapper not installed) gets the fallback
    too: validating the workflow against it then names the missing node, which says more
    than a missing scheduler list.
    """
    if not has_wrapper(object_info) and "KSamplerAdvanced" in object_info:
        return list(NATIVE_SCHEDULERS)  # ComfyUI's own nodes: what `workflows.native` maps
    try:
        found = schema_choices(dict(object_info), "WanVideoSampler", "scheduler")
    except (KeyError, ValueError):
        found = []
    return found or [DEFAULT_SCHEDULER]


def mode_schedulers(mode: Mode, schedulers: Sequence[str]) -> list[str]:
    """The schedulers a `mode` job may choose from, given the host's (`scheduler_choices`):
    Wan-Animate-2 runs on ComfyUI's own sampler on every host, so it has core's names."""
    if mode is Mode.ANIMATE2:
        return list(NATIVE_SCHEDULERS)
    return list(schedulers)


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
