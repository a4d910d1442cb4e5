"""A request's parameters resolved against the table (`bot.params.PARAMS`) and the config.

`resolve_params` merges the table's defaults, `[defaults.<mode>]` and the user's overrides,
checks each value against the table, and rounds what Wan needs rounded (frames = 4n+1, sides
divisible by 16), noting each adjustment; `resolve_again` re-checks an earlier request's
parameters against today's limits (re-roll, `--from`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import Config, Limits
from bot.errors import ParameterError
from bot.param_rules import check_range
from bot.params import (
    DEFAULT_NEGATIVE,
    FRAMES_FROM_MEDIA,
    JOB_COUNT,
    PARAMS,
    PRESET_KEYS,
    SIZE_FIELDS,
    Param,
    mode_schedulers,
    require_text,
)
from bot.request import JobRequest, Mode, Params


@dataclass(frozen=True)
class Resolved:
    params: Params
    negative_prompt: str
    notes: list[str]


def builtin_defaults(mode: Mode) -> dict[str, Any]:
    """The table's defaults for `mode`, keyed by `Params` field (size as width and height)."""
    values: dict[str, Any] = {}
    for param in PARAMS:
        if mode not in param.modes or param.key in ("seed", "negative_prompt", *JOB_COUNT):
            continue
        if param.key == "size":
            values.update(zip(SIZE_FIELDS, param.default_for(mode), strict=True))
        else:
            values[param.key] = param.default_for(mode)
    return values


def resolve_params(
    mode: Mode, overrides: dict[str, Any], config: Config, schedulers: Sequence[str]
) -> Resolved:
    """Merge the table's defaults, `[defaults.<mode>]` and `overrides`; validate and round.

    `schedulers` are the choices the host's `WanVideoSampler` accepts.
    """
    values = _mode_defaults(mode, config)
    negative = values.pop("negative_prompt", DEFAULT_NEGATIVE)
    if overrides.get("quality", values.get("quality")) == "fast":
        values.update(_fast_values(config, overrides))
    values["size_from_user"] = False
    return _apply(mode, values, negative, overrides, config, schedulers)


def default_negative(config: Config, mode: Mode) -> str:
    """The negative prompt a `mode` job gets when its user sets none (`[defaults.<mode>]`)."""
    return str(_mode_defaults(mode, config).get("negative_prompt", DEFAULT_NEGATIVE))


def requested_size(mode: Mode, overrides: Mapping[str, Any], config: Config) -> tuple[int, int]:
    """The frame size a request asks for before its photo is read (which may turn it round):
    its `size`, else `[defaults.<mode>]`'s, else the table's."""
    if overrides.get("size"):
        width, height = overrides["size"]
        return int(width), int(height)
    values = _mode_defaults(mode, config)
    return int(values["width"]), int(values["height"])


def _mode_defaults(mode: Mode, config: Config) -> dict[str, Any]:
    """The table's defaults with `[defaults.<mode>]` on top (its negative prompt included)."""
    values = builtin_defaults(mode)
    values.update(getattr(config.defaults, mode.value).model_dump(exclude_none=True))
    return values


def _fast_values(config: Config, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """What `[fast]` sets for a fast job; a user who sets the steps gets the split at half."""
    fast = config.fast.sampler_values()
    if "steps" in overrides and "split" not in overrides:
        fast["split"] = 0
    return fast


def _preset_switch(
    mode: Mode, values: dict[str, Any], overrides: Mapping[str, Any], config: Config
) -> None:
    """An earlier request run again at another quality takes that preset's values."""
    wanted = overrides.get("quality")
    if wanted is None or wanted == values.get("quality"):
        return
    if wanted == "fast":
        values.update(_fast_values(config, overrides))
        return
    standard = _mode_defaults(mode, config)
    values.update({k: standard[k] for k in PRESET_KEYS})
    values["split"] = 0


def resolve_again(
    request: JobRequest, overrides: dict[str, Any], config: Config, schedulers: Sequence[str]
) -> Resolved:
    """An earlier request's parameters with `overrides` on top, checked against today's limits."""
    values = request.params.model_dump()
    if request.mode in FRAMES_FROM_MEDIA:
        # Its length came from the audio or pose frames and is measured again when the files
        # are prepared: a placeholder that passes any limit stands in until then.
        values["frames"] = 1
    _preset_switch(request.mode, values, overrides, config)
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
        values.update(zip(SIZE_FIELDS, size, strict=True))
    values.update(overrides)
    schedulers = mode_schedulers(mode, schedulers)
    notes: list[str] = []
    for param in PARAMS:
        if mode in param.modes:
            _check(param, values, config.limits, schedulers, notes)
    return Resolved(Params.model_validate(values), negative, notes)


def _bounded(param: Param, values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """What a range bounds, with its name in messages: each side of the size, else the value."""
    if param.key == "size":
        return [(side, values[side]) for side in SIZE_FIELDS]
    return [(param.title, values.get(param.key))]


def _check(
    param: Param,
    values: dict[str, Any],
    limits: Limits,
    schedulers: Sequence[str],
    notes: list[str],
) -> None:
    value = values.get(param.key)
    bounds = param.bounds(limits, values)
    if bounds is not None:
        for label, number in _bounded(param, values):
            if number is not None:  # None: a seed still to be drawn
                check_range(label, number, *bounds)
    allowed = param.allowed(schedulers)
    if allowed and value not in allowed:
        raise ParameterError(
            f"{param.title} {value!r} is not available. Choose one of: {', '.join(allowed)}."
        )
    if param.rule is not None:
        param.rule(values, limits, notes)
