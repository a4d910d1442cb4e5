"""Per-user defaults (`/settings`): parameters a user sets once; each job's own flags win.

Kept in the store's meta table (key `settings:<platform:user id>`) as the text the user typed
per parameter (`{"steps": "20"}`) and converted through the parameter table when a job uses
them, so a value the table no longer takes is dropped rather than trusted. Setting them checks
them against today's limits for every mode they apply to.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from bot.config import Config
from bot.errors import ParameterError, UserError
from bot.flags import convert_flag, lookup_flag
from bot.params import PARAMS
from bot.replies import echo
from bot.request import Mode
from bot.resolve import resolve_params

RESET_WORDS = frozenset({"reset", "clear", "none", "off"})
VALUE_ECHO = 80  # characters of each value shown back; every setting fits a message then
NOT_SETTABLE = frozenset({"seed", "batch"})  # chosen for each job (the seed drawn anew)
USAGE = (
    "Set your defaults as name and value pairs, e.g. /settings steps 20 quality fast; "
    "/settings reset clears them."
)


class MetaStore(Protocol):
    async def meta(self, key: str) -> str | None: ...
    async def set_meta(self, key: str, value: str) -> None: ...


def parse_settings(text: str) -> dict[str, str] | None:
    """`steps 20 quality fast` (dashes allowed) as {"steps": "20", "quality": "fast"}, each
    value checked for its type; None for `reset`. Raises `UserError` saying what is valid."""
    words = text.split()
    if len(words) == 1 and words[0].lower() in RESET_WORDS:
        return None
    if not words or len(words) % 2:
        raise UserError(USAGE)
    values: dict[str, str] = {}
    for name, value in zip(words[::2], words[1::2], strict=True):
        param = lookup_flag(name.lstrip("-—–"))
        if param.key in NOT_SETTABLE:
            raise ParameterError(
                f"The {param.name} cannot be a default (it is chosen for each job): give "
                f"--{param.name} in a job's own flags instead."
            )
        convert_flag(param.name, value)
        values[param.name] = value
    return values


def typed_for(mode: Mode, values: Mapping[str, str]) -> dict[str, Any]:
    """The settings that apply to `mode`, typed as overrides; unusable ones are left out."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        param = next((p for p in PARAMS if p.name == name), None)
        if param is None or mode not in param.modes or param.key in NOT_SETTABLE:
            continue
        try:
            key, typed = convert_flag(name, value, mode)
        except ParameterError:
            continue
        out[key] = typed
    return out


def describe(values: Mapping[str, str]) -> str:
    """The user's defaults as "steps 20, quality fast", each value cut short: a long one (a
    negative prompt) is stored whole, but echoing it would not fit in a message."""
    return ", ".join(f"{name} {echo(value, VALUE_ECHO)}" for name, value in values.items())


class UserDefaults:
    """The engine's part: read, change and apply a user's defaults."""

    def __init__(
        self,
        store: MetaStore,
        config: Config,
        schedulers: Callable[[], Awaitable[Sequence[str]]],
    ) -> None:
        self._store = store
        self._config = config
        self._schedulers = schedulers

    async def get(self, user: str) -> dict[str, str]:
        raw = await self._store.meta(f"settings:{user}")
        data = json.loads(raw) if raw else {}
        return {str(k): str(v) for k, v in data.items()}

    async def change(self, user: str, text: str) -> dict[str, str]:
        """Merge what `text` sets into the user's defaults (or clear them); the new defaults."""
        given = parse_settings(text)
        values = {} if given is None else {**await self.get(user), **given}
        schedulers = await self._schedulers()
        for mode in Mode:
            typed = typed_for(mode, values)
            if typed:
                resolve_params(mode, typed, self._config, schedulers)  # raises if out of range
        await self._store.set_meta(f"settings:{user}", json.dumps(values))
        return values

    async def for_job(self, user: str, mode: Mode) -> dict[str, Any]:
        return typed_for(mode, await self.get(user))
