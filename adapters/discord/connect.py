"""Reaching Discord: the token's shape, pointing discord.py at a proxy, and `wanbot check`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from adapters.discord.config import TOKEN_ENV, DiscordConfig

# A bot token: three base64url parts joined by dots (user id, timestamp, HMAC).
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{10,}$")
TOKEN_KEY = f"discord.token (or {TOKEN_ENV})"
API_URL = "https://discord.com/api/v10"
CHECK_TIMEOUT = 15.0


def token_problem(token: str | None) -> str | None:
    """Why `token` cannot be a bot token, or None when it looks like one."""
    if not token:
        return f"{TOKEN_KEY} is not set: give it the bot token from the developer portal."
    if not TOKEN_SHAPE.match(token):
        return (
            f"{TOKEN_KEY} does not look like a bot token (three parts of letters, digits, '_' "
            "or '-' joined by dots, as the developer portal's Bot page shows it): check for "
            "quotes, spaces or a 'Bot ' prefix."
        )
    return None


def rejected(discord: DiscordConfig) -> str:
    where = f" by {discord.api_base_url}" if discord.api_base_url else ""
    return f"The bot token was rejected{where}: check {TOKEN_KEY} (reset it on the Bot page)."


def api_url(discord: DiscordConfig) -> str:
    return (discord.api_base_url or API_URL).rstrip("/")


@contextmanager
def pointed(discord: DiscordConfig) -> Iterator[None]:
    """discord.py's REST base and gateway set to the configured proxy (they are class
    attributes of the library), restored on exit; nothing changes when none is configured."""
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    if discord.api_base_url:
        Route.BASE = api_url(discord)
    if discord.gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(discord.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


async def check(discord: DiscordConfig) -> tuple[bool, str]:
    """`wanbot check` for `[discord]`: the token's shape, then `GET /users/@me`; one line."""
    problem = token_problem(discord.token)
    if problem is not None:
        return False, f"discord: {problem}"
    headers = {"Authorization": f"Bot {discord.token}"}
    timeout = aiohttp.ClientTimeout(total=CHECK_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(api_url(discord) + "/users/@me", headers=headers) as answer,
        ):
            if answer.status == 401:
                return False, f"discord: {rejected(discord)}"
            if answer.status != 200:
                return False, f"discord: Discord refused GET /users/@me (HTTP {answer.status})."
            me = await answer.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return False, f"discord: unreachable ({api_url(discord)}): {reason}"
    return True, f"discord: ready as {me.get('username', '?')} (id {me.get('id', '?')})"
