"""Telegram front end (python-telegram-bot): captions and replies in, status edits and MP4s out.

The contract `bot.app` loads (see its docstring): `read_settings(section, env, source)` for
`[telegram]` (`adapters.telegram.config`), `create(config, settings, engine)` for
`wanbot serve` and `check(config, settings)` for `wanbot check`. The Telegram library is
imported only by the last two.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

# python-telegram-bot 22 warns on every `.duration` read unless durations are timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from adapters.telegram.config import TOKEN_ENV, TelegramConfig, read_settings

if TYPE_CHECKING:
    from adapters.telegram.app import TelegramBot
    from bot.frontend import Config, EngineAPI

__all__ = ["TOKEN_ENV", "check", "create", "read_settings"]


def create(config: Config, settings: TelegramConfig, engine: EngineAPI) -> TelegramBot:
    """The Telegram adapter (a `bot.frontend.Adapter`); `start()` connects it."""
    from adapters.telegram.app import TelegramBot

    return TelegramBot(config, settings, engine)


async def check(config: Config, settings: TelegramConfig) -> tuple[bool, str]:
    """Whether the `[telegram]` section works (token shape, `getMe`), as one report line."""
    from adapters.telegram.connect import check as check_telegram

    return await check_telegram(settings)
