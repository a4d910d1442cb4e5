"""Reaching the Bot API: the token's shape, start-up retries with backoff, and `wanbot check`.

Telegram being unreachable (or answering 5xx or 429) at start-up is an outage: it is retried
with one log line per attempt while the engine keeps running. A rejected token or any other
refusal is a configuration problem: one `ConfigError` line that names the key to fix.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter, TelegramError

from adapters.telegram.config import TOKEN_ENV, TelegramConfig
from adapters.telegram.frontend import flood_wait
from bot.frontend import ConfigError

log = logging.getLogger(__name__)

# BotFather's tokens: the bot's numeric id, a colon, then letters, digits, `_` and `-`.
TOKEN_SHAPE = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{1,100}$")
TOKEN_KEY = f"telegram.token (or {TOKEN_ENV})"
CLOUD_URL = "https://api.telegram.org/bot"
FIRST_RETRY = 1.0
LONGEST_RETRY = 60.0


def token_problem(token: str | None) -> str | None:
    """Why `token` cannot be a bot token, or None when it looks like one."""
    if not token:
        return f"{TOKEN_KEY} is not set: give it the token from @BotFather."
    if not TOKEN_SHAPE.match(token):
        return (
            f"{TOKEN_KEY} does not look like a bot token (digits, a colon, then letters, digits, "
            "'_' or '-', as @BotFather gives it): check for quotes, spaces or a 'bot' prefix."
        )
    return None


def rejected(telegram: TelegramConfig) -> str:
    where = f" by the Bot API server at {telegram.base_url}" if telegram.base_url else ""
    return f"The bot token was rejected{where}: check {TOKEN_KEY} (ask @BotFather for it)."


def one_line(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, TelegramError) else str(exc)
    return " ".join(text.split()) or type(exc).__name__


async def connect_with_retries(
    connect: Callable[[], Awaitable[None]],
    abandon: Callable[[], Awaitable[None]],
    telegram: TelegramConfig,
    first_retry: float = FIRST_RETRY,
) -> None:
    """Run `connect` until it works; `abandon` undoes a failed attempt before the next one.

    Raises `ConfigError` when Telegram refuses (a bad token, a refused webhook). Cancelling it
    (a stop signal while waiting) is clean: the failed attempt was already abandoned.
    """
    delay = first_retry
    while True:
        try:
            await connect()
            return
        except InvalidToken as exc:
            raise ConfigError(rejected(telegram)) from exc
        except RetryAfter as exc:
            reason, wait = "flood control", flood_wait(exc) or 0.0
        except NetworkError as exc:  # includes timeouts and 5xx answers
            reason, wait = one_line(exc), delay
            delay = min(delay * 2, LONGEST_RETRY)
        except TelegramError as exc:
            raise ConfigError(
                f"Telegram refused to start the bot: {one_line(exc)}. Check the [telegram] section."
            ) from exc
        await abandon()
        log.warning("Telegram is not reachable (%s); retrying in %.0f s", reason, wait)
        await asyncio.sleep(wait)


def api_urls(telegram: TelegramConfig) -> tuple[str, str]:
    """The Bot API's base URL and file URL (the token is appended to both by the library)."""
    base_url = telegram.base_url or CLOUD_URL
    return base_url, telegram.base_file_url or base_url.replace("/bot", "/file/bot", 1)


def make_bot(telegram: TelegramConfig) -> Bot:
    """A plain Bot for one-off calls (no Application), honouring a local Bot API server."""
    base_url, file_url = api_urls(telegram)
    return Bot(
        telegram.token or "",
        base_url=base_url,
        base_file_url=file_url,
        local_mode=telegram.local_mode,
    )


async def check(telegram: TelegramConfig) -> tuple[bool, str]:
    """`wanbot check` for `[telegram]`: the token's shape, then `getMe`; one line either way."""
    problem = token_problem(telegram.token)
    if problem is not None:
        return False, f"telegram: {problem}"
    try:
        async with make_bot(telegram) as bot:
            return True, f"telegram: ready as @{bot.username}"
    except InvalidToken:
        return False, f"telegram: {rejected(telegram)}"
    except NetworkError as exc:
        where = telegram.base_url or "api.telegram.org"
        return False, f"telegram: unreachable ({where}): {one_line(exc)}"
    except TelegramError as exc:
        return False, f"telegram: Telegram refused getMe: {one_line(exc)}"
