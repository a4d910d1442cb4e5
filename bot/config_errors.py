"""How a bad config is told: one line per problem, naming the key and its fix; never a
secret's value. `bot.config` uses it for its own keys; each adapter for its chat section."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.dburl import hide_password
from bot.errors import ConfigError
from bot.logs import SECRET_FIELDS

SectionT = TypeVar("SectionT", bound=BaseModel)


def config_problems(source: str, problems: Iterable[str]) -> str:
    """A `ConfigError`'s text: where, then one line per problem naming a key and its fix."""
    return "\n".join([f"Invalid configuration in {source}:", *(f"  - {p}" for p in problems)])


def format_errors(exc: ValidationError, source: str, section: str = "") -> str:
    """Pydantic's findings, one line each; keys start with `section.` when one is given."""
    return config_problems(source, (_problem(err, section) for err in exc.errors()))


def unknown_key(key: str) -> str:
    """The problem line for a key (or section) this WanBot does not know."""
    fix = "remove it or check its spelling (see config.example.toml)"
    return f"key '{key}' is not a known setting: {fix}."


def _problem(err: ErrorDetails, section: str) -> str:
    path = ([section] if section else []) + [str(p) for p in err["loc"]]
    key = ".".join(path) or "(top level)"
    if err["type"] == "extra_forbidden":
        return unknown_key(key)
    if err["type"] == "missing":
        return f"key '{key}' is required: add it (see config.example.toml)."
    if err["loc"] and err["loc"][-1] in SECRET_FIELDS:
        # A malformed secret is still a secret: never echo it.
        return f"key '{key}': {err['msg']} (value not shown: it is a secret)."
    if isinstance(err.get("input"), dict):
        # A rule about a whole table: the message says what is wrong, and the table may hold
        # secrets (a token beside the setting at fault).
        return f"key '{key}': {err['msg']}."
    shown = err.get("input")
    if isinstance(shown, str):
        shown = hide_password(shown)  # a URL's password (`[storage] database`)
    return f"key '{key}': {err['msg']} (got {shown!r})."


def validate_section(model: type[SectionT], data: Any, source: str, section: str) -> SectionT:
    """`data` (the table `[section]`) validated as `model`; `ConfigError` naming each key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, source, section)) from exc
