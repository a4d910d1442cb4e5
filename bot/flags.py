"""The shared flag syntax of every text front end: `a cat --steps 20 --size 480x832`.

`parse_command` splits free text (the prompt) from `--name value` flags and types each value
with the parameter table in `bot.params`; it does not check ranges (`resolve_params` does,
with the config's limits). Quotes group words, apostrophes inside words are ordinary
characters, and the em and en dashes phones put in place of `--` are accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.errors import ParameterError
from bot.params import PARAMS, Param, find_param
from bot.request import Mode

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
    return ", ".join(f"--{p.name}" for p in PARAMS if mode is None or mode in p.modes)


def lookup_flag(name: str, mode: Mode | None = None) -> Param:
    """The parameter `--name` sets, or a `ParameterError` saying what is valid."""
    param = find_param(name)
    if param is None:
        name = name.lower()
        raise ParameterError(f"Unknown option --{name}. Valid options: {_valid_flags_text(mode)}.")
    if mode is not None and mode not in param.modes:
        modes = " and ".join(m.value for m in Mode if m in param.modes)
        raise ParameterError(f"--{param.name} only applies to {modes}, not to {mode.value}.")
    return param


def convert_flag(name: str, value: str, mode: Mode | None = None) -> tuple[str, Any]:
    """Check one `--name value` pair; returns (override key, typed value)."""
    param = lookup_flag(name, mode)
    try:
        return param.key, param.kind(value)
    except ValueError:
        raise ParameterError(f"--{param.name} {value!r} is not valid: {param.help}.") from None


def repeated(param: Param, first: Any, second: Any) -> ParameterError:
    """The error for an option given twice: which value wins would be a guess."""
    return ParameterError(f"--{param.name} is given twice ({first} and {second}): give it once.")


def parse_command(text: str, mode: Mode | None = None) -> ParsedCommand:
    """Split `text` into the prompt and typed flag values.

    Raises `ParameterError` for unknown flags, missing values, values of the wrong type
    (listing what is valid) and a flag given twice (also under an alias).
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
                param = lookup_flag(name, mode)
                raise ParameterError(f"--{param.name} needs a value: {param.help}.")
            value = tokens[i + 1][0]
            i += 1
        key, typed = convert_flag(name, value, mode)
        if key in overrides:
            raise repeated(lookup_flag(name, mode), overrides[key], typed)
        overrides[key] = typed
        i += 1
    return ParsedCommand(" ".join(prompt_words).strip(), overrides)
