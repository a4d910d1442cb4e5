"""Telegram front end (python-telegram-bot): captions and replies in, status edits and MP4s out.

`create(config, engine)` is what `wanbot serve` calls when `[telegram]` is configured;
`check(config)` is what `wanbot check` calls.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# python-telegram-bot 22 warns on every `.duration` read unless durations are timedeltas.
os.environ.setdefault("PTB_TIMEDELTA", "1")

if TYPE_CHECKING:
    from adapters.telegram.app import TelegramBot
    from bot.config import Config


def create(config: Config, engine: Any) -> TelegramBot:
    """The Telegram adapter (a `bot.frontend.Adapter`); `start()` connects it."""
    from adapters.telegram.app import TelegramBot

    return TelegramBot(config, engine)


async def check(config: Config) -> tuple[bool, str]:
    """Whether the `[telegram]` section works (token shape, `getMe`), as one report line."""
    from adapters.telegram.connect import check as check_telegram

    return await check_telegram(config)
