"""A job command's typed options, generated from the parameter table, and their values read back.

One option per `Param` of the command's mode (`PARAMS`): integers and numbers carry Discord's
`min_value`/`max_value` from `Param.bounds(config.limits)`, fixed choices become choices, the
host's scheduler list is offered by autocomplete, and the size is text ("832x480"). discord.py
builds a command's options from its callback's signature, so `job_signature` writes one.
`overrides` turns the values Discord sends, plus the optional `flags` text in the shared
syntax, into the engine's typed overrides (keyed by `Param.key`); a parameter set both ways
is refused.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from discord import app_commands

from adapters.discord import texts
from bot.frontend import PARAMS, Config, Mode, Param, ParameterError, echo, parse_command

# Discord integer options hold at most 2^53 - 1; larger seeds go through `flags`.
MAX_INTEGER = 2**53 - 1
DESCRIPTION_LIMIT = 100
# Option names where the flag's own name would be cryptic on a form.
RENAMED = {"negative_prompt": "negative"}
FLAGS = "flags"


@dataclass(frozen=True)
class Option:
    """A parameter as a slash-command option (`name` is also the callback's argument)."""

    param: Param
    name: str


def options_for(mode: Mode) -> list[Option]:
    return [
        Option(p, RENAMED.get(p.key, p.name.replace("-", "_"))) for p in PARAMS if mode in p.modes
    ]


def annotation(param: Param, config: Config) -> Any:
    """The option's type for discord.py: a `Range` when the parameter has bounds."""
    kind = param.value_type
    bounds = param.bounds(config.limits)
    if kind is str or bounds is None:
        return kind
    low, high = bounds
    if kind is int:
        low, high = max(int(low), -MAX_INTEGER), min(int(high), MAX_INTEGER)
    else:
        low, high = float(low), float(high)
    return cast(Any, app_commands.Range)[kind, low, high]


def describe(param: Param, mode: Mode) -> str:
    """ "sampling steps (default 30)", from the table's help and the mode's default."""
    what = param.help.split(", e.g.")[0].split(": ")[0]
    default = param.default_for(mode)
    if default is None:
        shown = "random"
    elif isinstance(default, tuple):
        shown = "x".join(map(str, default))
    elif isinstance(default, str) and len(default) > 24:
        shown = "Wan's standard"
    else:
        shown = str(default)
    return f"{what} (default {shown})"[:DESCRIPTION_LIMIT]


def job_signature(
    mode: Mode,
    config: Config,
    required: list[tuple[str, Any]],
    optional: list[tuple[str, Any]] | None = None,
) -> inspect.Signature:
    """`(interaction, <required...>, <optional...> = None, <one per option> = None,
    flags = None)`: the shape discord.py reads a command's options from."""
    kw = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(inspect.Parameter(name, kw, annotation=kind) for name, kind in required),
        *(
            inspect.Parameter(name, kw, default=None, annotation=kind)
            for name, kind in optional or []
        ),
    ]
    for option in options_for(mode):
        kind = annotation(option.param, config)
        parameters.append(inspect.Parameter(option.name, kw, default=None, annotation=kind))
    parameters.append(inspect.Parameter(FLAGS, kw, default=None, annotation=str))
    return inspect.Signature(parameters)


def descriptions(mode: Mode, described: Mapping[str, str]) -> dict[str, str]:
    """Every option's description: the required ones' from `described`, then the table's."""
    out = dict(described)
    out.update({o.name: describe(o.param, mode) for o in options_for(mode)})
    out[FLAGS] = texts.FLAGS_OPTION
    return out


def fixed_choices(mode: Mode) -> dict[str, list[app_commands.Choice[str]]]:
    """Options with a fixed list of values (the color match), as Discord choices."""
    return {
        o.name: [app_commands.Choice(name=c, value=c) for c in o.param.choices]
        for o in options_for(mode)
        if o.param.choices
    }


def scheduler_option(mode: Mode) -> str | None:
    """The option whose values are the host's schedulers (autocompleted), if the mode has it."""
    return next((o.name for o in options_for(mode) if o.param.host_choices), None)


def overrides(mode: Mode, values: Mapping[str, Any]) -> dict[str, Any]:
    """The typed overrides from the options given and the `flags` text.

    Raises `ParameterError` for flags that do not parse, text that is not a flag, and a value
    the parameter cannot read (a size that is not WIDTHxHEIGHT).
    """
    found: dict[str, Any] = {}
    text = values.get(FLAGS)
    if text:
        parsed = parse_command(text, mode)
        if parsed.prompt:
            raise ParameterError(texts.FLAGS_ONLY.format(text=echo(parsed.prompt)))
        found.update(parsed.overrides)
    for option in options_for(mode):
        value = values.get(option.name)
        if value is None:
            continue
        if option.param.key in found:  # also in `flags`: which one was meant is a guess
            raise ParameterError(
                texts.GIVEN_TWICE.format(
                    option=option.name,
                    value=value,
                    flag=option.param.name,
                    other=found[option.param.key],
                )
            )
        found[option.param.key] = typed(option.param, value)
    return found


def typed(param: Param, value: Any) -> Any:
    if param.value_type is str and param.kind is not str:
        try:
            return param.kind(value)
        except ValueError:
            raise ParameterError(
                texts.BAD_VALUE.format(name=param.name, value=echo(str(value)), help=param.help)
            ) from None
    return value
