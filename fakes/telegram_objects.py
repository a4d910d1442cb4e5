"""Telegram Bot API objects as the fake server builds and reads them.

Pure builders (no server state): the `Call` the fake records for each request, the user,
message and error objects it answers with, and how PTB's form fields decode.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 123456


@dataclass
class Call:
    """One request the bot made: method name, decoded fields and uploaded files."""

    method: str
    fields: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    filenames: dict[str, str] = field(default_factory=dict)
    response: Any = None
    at: float = field(default_factory=time.monotonic)

    def file(self, name: str) -> bytes:
        """The bytes uploaded for parameter `name` (following an `attach://` reference)."""
        value = self.fields.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self.file_at(value)
        return self.files[name]

    def file_at(self, reference: str) -> bytes:
        """The bytes an `attach://<name>` reference (e.g. inside `media`) points at."""
        return self.files[reference.removeprefix("attach://")]

    @property
    def words(self) -> str | None:
        """The text or caption this call sends or edits (a media edit's caption), if any."""
        for value in (self.fields.get("text"), self.fields.get("caption")):
            if value is not None:
                return str(value)
        media = self.fields.get("media")
        if isinstance(media, dict) and "caption" in media:
            return str(media["caption"])
        return None


def decode(value: str) -> Any:
    # PTB JSON-encodes every non-string parameter and sends strings as they are.
    if value[:1] in "{[" or value in ("true", "false", "null") or value.lstrip("-").isdigit():
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def api_error(code: int, description: str, **extra: Any) -> web.Response:
    """An unsuccessful Bot API answer, with the HTTP status Telegram uses for it."""
    body = {"ok": False, "error_code": code, "description": description, **extra}
    return web.json_response(body, status=code)


def user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}


def bot_user(username: str) -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "WanBot",
        "username": username,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def user_message(
    message_id: int,
    *,
    user_id: int = 111,
    chat_id: int | None = None,
    text: str | None = None,
    caption: str | None = None,
    reply_to: dict[str, Any] | None = None,
    media_group_id: str | None = None,
    chat_type: str = "private",
    **media: Any,
) -> dict[str, Any]:
    """A Message object from a user; `media` are fields like photo=, voice=, document=."""
    chat_id = user_id if chat_id is None else chat_id
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type != "private":
        chat["title"] = "Test group"
    else:
        chat["first_name"] = f"user{user_id}"
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": user(user_id),
        **media,
    }
    for key, value in (("text", text), ("caption", caption)):
        if value is not None:
            message[key] = value
            entities = command_entities(value)
            if entities:
                message[f"{key}_entities" if key == "caption" else "entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    if media_group_id is not None:
        message["media_group_id"] = media_group_id
    return message


def bot_message(message_id: int, call: Call, bot: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The Message object the bot's `call` (sendMessage, sendVideo, ...) produced."""
    chat_id = call.fields["chat_id"]
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
        "from": bot,
        **extra,
    }
    if "reply_markup" in call.fields:
        message["reply_markup"] = call.fields["reply_markup"]
    return message


def command_entities(text: str) -> list[dict[str, Any]]:
    """A `bot_command` entity when `text` opens with `/command[@bot]`, as Telegram marks it."""
    if not text.startswith("/"):
        return []
    end = 1
    while end < len(text) and (text[end].isalnum() or text[end] in "_@"):
        end += 1
    # Offsets count UTF-16 code units; commands are ASCII, so characters and units agree.
    return [{"type": "bot_command", "offset": 0, "length": end}]
