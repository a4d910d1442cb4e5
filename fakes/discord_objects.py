"""Discord API v10 objects as the fake Discord builds and reads them.

Pure builders (no server state): snowflake ids, the users, guild, channel, messages,
attachments and application the fake answers with, the `Call` it records for each request,
and its answers in Discord's wire shape (JSON with `Content-Type: application/json` exactly,
errors as `{"code", "message"}`, 429 with `retry_after` and the headers discord.py reads).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from fakes.forms import Upload

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.fake.discord-test-token"
BOT_ID = 1100000000000000001
APP_ID = BOT_ID  # an application's id is its bot user's id
GUILD_ID = 1100000000000000100
CHANNEL_ID = 1100000000000000200
USER_ID = 1100000000000001000
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # what Discord reports without boosts

EPHEMERAL = 1 << 6
LOADING = 1 << 7
VOICE_MESSAGE = 1 << 13
COMPONENTS_V2 = 1 << 15

DISCORD_EPOCH_MS = 1_420_070_400_000

# Discord's JSON error code and message for each status the fake answers with by default.
ERRORS: dict[int, tuple[int, str]] = {
    400: (50035, "Invalid Form Body"),
    401: (0, "401: Unauthorized"),
    403: (50013, "Missing Permissions"),
    404: (10008, "Unknown Message"),
    413: (40005, "Request entity too large"),
}


class Snowflakes:
    """Unique, increasing Discord ids whose timestamp part is now (discord.py reads it)."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        now = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (1 << 17)
        self._last = max(now, self._last + 1)
        return self._last


@dataclass
class Call:
    """One REST request the bot made, named after Discord's endpoint (`create_message`)."""

    endpoint: str
    params: dict[str, str]
    query: dict[str, str]
    payload: Any  # the JSON body, or `payload_json` of a multipart body
    files: list[Upload] = field(default_factory=list)
    status: int = 200
    response: Any = None
    at: float = field(default_factory=time.monotonic)

    def file(self, index: int = 0) -> bytes:
        return self.files[index].data

    @property
    def flags(self) -> int:
        """Message flags sent: the message's own, or those inside a callback's `data`."""
        if not isinstance(self.payload, dict):
            return 0
        data = self.payload.get("data", self.payload) or {}
        return int(data.get("flags") or 0)


def timestamp() -> str:
    return datetime.now(UTC).isoformat()


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer with `Content-Type: application/json` exactly, as discord.py requires."""
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def error(status: int, code: int | None = None, message: str | None = None) -> web.Response:
    """An error in Discord's shape; `code` and `message` default from `ERRORS`."""
    default_code, default_message = ERRORS.get(status, (0, "Error"))
    body = {"message": message or default_message, "code": default_code if code is None else code}
    return json_response(body, status)


def rate_limited(retry_after: float, bucket: str) -> web.Response:
    """A 429 as Discord sends it; discord.py treats a 429 without `Via` as a Cloudflare ban."""
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, round(retry_after))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": str(retry_after),
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": "user",
    }
    return json_response(body, 429, headers)


def user(user_id: int, name: str | None = None, *, bot: bool = False) -> dict[str, Any]:
    name = name or f"user{user_id % 10000}"
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def bot_user() -> dict[str, Any]:
    return {**user(BOT_ID, "wanbot", bot=True), "verified": True, "mfa_enabled": False, "flags": 0}


def member(user_payload: dict[str, Any], roles: list[int] | None = None) -> dict[str, Any]:
    """A guild member as interactions carry it (with the `permissions` Discord computed)."""
    return {
        "user": user_payload,
        "roles": [str(r) for r in roles or []],
        "nick": None,
        "avatar": None,
        "joined_at": timestamp(),
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "permissions": str((1 << 11) | (1 << 15) | (1 << 10)),  # send, attach, view
    }


def application() -> dict[str, Any]:
    return {
        "id": str(APP_ID),
        "name": "WanBot",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": user(USER_ID - 1, "owner"),
        "verify_key": "0" * 64,
        "team": None,
        "flags": 0,
        "interactions_endpoint_url": None,
        "bot": bot_user(),
    }


def text_channel(channel_id: int, guild_id: int, name: str = "general") -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(guild_id),
        "name": name,
        "position": 0,
        "parent_id": None,
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "permission_overwrites": [],
    }


def dm_channel(channel_id: int, recipient: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(channel_id), "type": 1, "last_message_id": None, "recipients": [recipient]}


def role(role_id: int, name: str, position: int = 1) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "position": position,
        "permissions": str((1 << 11) | (1 << 15) | (1 << 10)),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild(guild_id: int, channels: list[dict[str, Any]], roles: dict[int, str]) -> dict[str, Any]:
    """A GUILD_CREATE payload for a small available guild the bot is a member of."""
    everyone = role(guild_id, "@everyone", 0)  # @everyone's id is the guild's
    others = [role(role_id, name) for role_id, name in roles.items()]
    return {
        "id": str(guild_id),
        "name": "Test Guild",
        "icon": None,
        "owner_id": str(USER_ID - 1),
        "roles": [everyone, *others],
        "emojis": [],
        "stickers": [],
        "features": [],
        "channels": channels,
        "threads": [],
        "members": [member(bot_user())],
        "member_count": 2,
        "large": False,
        "unavailable": False,
        "joined_at": timestamp(),
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
    }


def attachment(
    attachment_id: int, filename: str, size: int, url: str, **extra: Any
) -> dict[str, Any]:
    """An attachment object; `extra` adds `content_type`, `duration_secs`, `waveform`, ..."""
    return {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        **{k: v for k, v in extra.items() if v is not None},
    }


def message(
    message_id: int,
    channel_id: int,
    author: dict[str, Any],
    *,
    content: str = "",
    guild_id: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": timestamp(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
    }
    if guild_id is not None:
        body["guild_id"] = str(guild_id)
    body.update(extra)
    return body


def numbered(
    components: list[dict[str, Any]], ids: Iterator[int] | None = None
) -> list[dict[str, Any]]:
    """The components with an `id` on each (1, 2, ... within a message), as Discord returns them."""
    ids = itertools.count(1) if ids is None else ids
    out = []
    for component in components:
        copy = {**component}
        copy["id"] = copy.get("id") or next(ids)
        for key in ("components", "accessory", "component"):
            inner = copy.get(key)
            if isinstance(inner, list):
                copy[key] = numbered(inner, ids)
            elif isinstance(inner, dict):
                copy[key] = numbered([inner], ids)[0]
        out.append(copy)
    return out


def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component, nested ones included (rows, labels, sections, containers)."""
    found: list[dict[str, Any]] = []
    for component in components:
        found.append(component)
        for key in ("components", "accessory", "component"):
            inner = component.get(key)
            if isinstance(inner, list):
                found.extend(walk(inner))
            elif isinstance(inner, dict):
                found.extend(walk([inner]))
    return found
