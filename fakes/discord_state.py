"""What the fake Discord stores and how each REST endpoint changes it.

Messages by id (the bot's, and the users' that tests post with `user_message`, `voice_message`),
channels (the test guild's text channel and DMs), registered application commands, interactions
with their responses, and the CDN's files (`attachment` puts one there). Each
`_e_<endpoint>` takes the recorded `Call` and returns the JSON answer, or a `web.Response` for
an error or an empty answer; the server in `discord_server` routes to them.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fakes.discord_objects import (
    APP_ID,
    ATTACHMENT_SIZE_LIMIT,
    CHANNEL_ID,
    COMPONENTS_V2,
    EPHEMERAL,
    GUILD_ID,
    LOADING,
    USER_ID,
    VOICE_MESSAGE,
    Call,
    Snowflakes,
    attachment,
    bot_user,
    dm_channel,
    error,
    message,
    numbered,
    text_channel,
    timestamp,
    user,
)
from fakes.forms import Upload

# Callback types each interaction type may answer with (Discord refuses the others).
ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


@dataclass
class Interaction:
    """An interaction the fake dispatched and what the bot has done with it."""

    payload: dict[str, Any]
    callback: Call | None = None
    original: int | None = None  # id of the message the response created or updated
    expired: bool = False
    followups: list[int] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])


class DiscordState:
    """The fake's Discord: see the module docstring. Every attribute is public for tests."""

    def __init__(self) -> None:
        self.ids = Snowflakes()
        self.cdn_base = ""  # the server sets it once it has a port
        self.channels: dict[int, dict[str, Any]] = {CHANNEL_ID: text_channel(CHANNEL_ID, GUILD_ID)}
        self.messages: dict[int, dict[str, Any]] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id, None = global
        self.interactions: dict[int, Interaction] = {}
        self.cdn: dict[str, bytes] = {}  # attachment id -> bytes
        self.cdn_expired = False
        self.upload_limit = ATTACHMENT_SIZE_LIMIT  # what Discord really accepts per file
        self.attachment_size_limit = ATTACHMENT_SIZE_LIMIT  # what interactions report
        self.roles: dict[int, str] = {}  # the guild's roles besides @everyone (before READY)
        self.member_roles: dict[int, list[int]] = {}  # user id -> role ids
        self.denied_channels: set[int] = set()
        self.closed_dms: set[int] = set()
        self.identical_edits = 0

    # -- what users post: files on the CDN, messages -----------------------------------

    def attachment(
        self,
        data: bytes,
        filename: str,
        content_type: str | None = None,
        *,
        size: int | None = None,
        channel_id: int = CHANNEL_ID,
        **extra: Any,
    ) -> dict[str, Any]:
        """Put `data` on the CDN; returns its attachment object (`size` may lie: big files)."""
        attachment_id = self.ids.next()
        self.cdn[str(attachment_id)] = data
        url = (
            f"{self.cdn_base}/attachments/{channel_id}/{attachment_id}/{filename}"
            f"?ex={'6' * 8}&is={'6' * 8}&hm={attachment_id:x}&"
        )
        kind = content_type or mimetypes.guess_type(filename)[0]
        size = len(data) if size is None else size
        return attachment(attachment_id, filename, size, url, content_type=kind, **extra)

    def user_message(
        self,
        content: str = "",
        attachments: list[dict[str, Any]] | None = None,
        *,
        user_id: int = USER_ID,
        channel_id: int = CHANNEL_ID,
        reply_to: dict[str, Any] | None = None,
        flags: int = 0,
    ) -> dict[str, Any]:
        """Store a message a user posted (no MESSAGE_CREATE is sent); returns it."""
        extra: dict[str, Any] = {}
        if reply_to is not None:
            ref = {"message_id": reply_to["id"], "channel_id": str(channel_id), "type": 0}
            extra = {"type": 19, "message_reference": ref, "referenced_message": reply_to}
        body = message(
            self.ids.next(),
            channel_id,
            user(user_id),
            content=content,
            guild_id=GUILD_ID if channel_id == CHANNEL_ID else None,
            attachments=attachments or [],
            flags=flags,
            **extra,
        )
        self.messages[int(body["id"])] = body
        return body

    def voice_message(
        self, data: bytes, *, duration: float = 2.5, user_id: int = USER_ID, **kwargs: Any
    ) -> dict[str, Any]:
        """A voice message: an OGG attachment with duration and waveform, flag 1<<13."""
        waveform = base64.b64encode(bytes(range(0, 256, 4))).decode()
        voice = self.attachment(
            data, "voice-message.ogg", "audio/ogg", duration_secs=duration, waveform=waveform
        )
        return self.user_message("", [voice], user_id=user_id, flags=VOICE_MESSAGE, **kwargs)

    def _uploaded(self, call: Call, channel_id: int) -> list[dict[str, Any]] | web.Response:
        """Attachment objects for the call's files, as `payload.attachments` describes them."""
        described = {
            str(a.get("id")): a for a in (call.payload or {}).get("attachments", []) if "id" in a
        }
        out = []
        for index, upload in enumerate(call.files):
            if len(upload.data) > self.upload_limit:
                return error(413)
            meta = described.get(str(index), {})
            name = meta.get("filename") or upload.filename
            extra = {k: meta[k] for k in ("description", "duration_secs", "waveform") if k in meta}
            out.append(self.attachment(upload.data, name, channel_id=channel_id, **extra))
        return out

    # -- messages ------------------------------------------------------------------------

    def _compose(
        self, call: Call, channel_id: int, *, flags: int = 0, **extra: Any
    ) -> dict[str, Any] | web.Response:
        """A new bot message in `channel_id` from the call's payload, stored."""
        payload = dict(call.payload or {})
        problem = self._invalid(payload, call.files)
        if problem is not None:
            return problem
        files = self._uploaded(call, channel_id)
        if isinstance(files, web.Response):
            return files
        channel = self.channels.get(channel_id, {})
        body = message(
            self.ids.next(),
            channel_id,
            bot_user(),
            content=str(payload.get("content") or ""),
            guild_id=int(channel["guild_id"]) if channel.get("guild_id") else None,
            embeds=payload.get("embeds") or [],
            components=numbered(payload.get("components") or []),
            attachments=files,
            flags=int(payload.get("flags") or 0) | flags,
            **extra,
        )
        if "nonce" in payload:
            body["nonce"] = payload["nonce"]
        reference = payload.get("message_reference")
        if reference:
            body["type"] = 19
            body["message_reference"] = {**reference, "channel_id": str(channel_id)}
            replied = self.messages.get(int(reference["message_id"]))
            if replied is None and reference.get("fail_if_not_exists", True):
                return error(400, 50035, "Invalid Form Body: Unknown message")
            body["referenced_message"] = replied
        self.messages[int(body["id"])] = body
        return body

    @staticmethod
    def _invalid(payload: dict[str, Any], files: list[Upload]) -> web.Response | None:
        content = payload.get("content") or ""
        flags = int(payload.get("flags") or 0)
        if len(content) > 2000:
            return error(400, 50035, "Invalid Form Body: content must be 2000 or fewer in length")
        if flags & COMPONENTS_V2 and (content or payload.get("embeds")):
            return error(400, 50035, "Invalid Form Body: content cannot be used with V2 components")
        has = content or payload.get("embeds") or payload.get("components") or files
        if not has and not payload.get("attachments"):
            return error(400, 50006, "Cannot send an empty message")
        return None

    def _edit(self, stored: dict[str, Any], call: Call) -> dict[str, Any] | web.Response:
        payload = dict(call.payload or {})
        files = self._uploaded(call, int(stored["channel_id"]))
        if isinstance(files, web.Response):
            return files
        before = {k: stored.get(k) for k in ("content", "embeds", "components", "attachments")}
        after = dict(stored)
        for key in ("content", "embeds", "flags"):
            if key in payload:
                after[key] = payload[key] if payload[key] is not None else stored.get(key)
        if "components" in payload:
            after["components"] = numbered(payload["components"] or [])
        if "attachments" in payload or files:
            keep = {str(a.get("id")) for a in payload.get("attachments") or []}
            kept = [
                a for a in stored["attachments"] if a["id"] in keep or "attachments" not in payload
            ]
            after["attachments"] = kept + files
        after["flags"] = int(after.get("flags") or 0) & ~LOADING
        problem = self._invalid(after, call.files)
        if problem is not None:
            return problem
        if {k: after.get(k) for k in before} == before and not files:
            self.identical_edits += 1
        after["edited_timestamp"] = timestamp()
        stored.clear()
        stored.update(after)
        return stored

    def _message_in(self, call: Call) -> dict[str, Any] | web.Response:
        found = self.messages.get(int(call.params["message_id"]))
        if found is None or found["channel_id"] != call.params["channel_id"]:
            return error(404)
        if int(found["flags"]) & EPHEMERAL:
            return error(404)  # only the interaction's token reaches an ephemeral message
        return found

    def _e_create_message(self, call: Call) -> Any:
        channel_id = int(call.params["channel_id"])
        if channel_id not in self.channels:
            return error(404, 10003, "Unknown Channel")
        if channel_id in self.denied_channels:
            return error(403)
        recipients = self.channels[channel_id].get("recipients") or []
        if any(int(r["id"]) in self.closed_dms for r in recipients):
            return error(403, 50007, "Cannot send messages to this user")
        return self._compose(call, channel_id)

    def _e_edit_message(self, call: Call) -> Any:
        found = self._message_in(call)
        if isinstance(found, web.Response):
            return found
        if found["author"]["id"] != bot_user()["id"]:
            return error(403, 50005, "Cannot edit a message authored by another user")
        return self._edit(found, call)

    def _e_get_message(self, call: Call) -> Any:
        return self._message_in(call)

    def _e_delete_message(self, call: Call) -> Any:
        found = self._message_in(call)
        if isinstance(found, web.Response):
            return found
        del self.messages[int(found["id"])]
        return web.Response(status=204)

    def _e_get_channel(self, call: Call) -> Any:
        return self.channels.get(int(call.params["channel_id"])) or error(
            404, 10003, "Unknown Channel"
        )

    def _e_trigger_typing(self, call: Call) -> Any:
        return web.Response(status=204)

    def dm_with(self, user_id: int) -> dict[str, Any]:
        """The DM channel between the bot and `user_id` (opened on first use)."""
        for channel in self.channels.values():
            if [r["id"] for r in channel.get("recipients", [])] == [str(user_id)]:
                return channel
        channel = dm_channel(self.ids.next(), user(user_id))
        self.channels[int(channel["id"])] = channel
        return channel

    def _e_create_dm(self, call: Call) -> Any:
        return self.dm_with(int(call.payload["recipient_id"]))

    # -- application commands -----------------------------------------------------------

    def _overwrite(self, call: Call, guild_id: int | None) -> Any:
        if int(call.params["application_id"]) != APP_ID:
            return error(403, 50001, "Missing Access")
        registered = []
        for command in call.payload:
            entry = {
                "id": str(self.ids.next()),
                "application_id": str(APP_ID),
                "version": str(self.ids.next()),
                "type": 1,
                "description": "",
                **command,
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            registered.append(entry)
        self.commands[guild_id] = registered
        return registered

    def _e_bulk_overwrite_global_commands(self, call: Call) -> Any:
        return self._overwrite(call, None)

    def _e_bulk_overwrite_guild_commands(self, call: Call) -> Any:
        return self._overwrite(call, int(call.params["guild_id"]))

    def _e_get_global_commands(self, call: Call) -> Any:
        return self.commands.get(None, [])

    def _e_get_guild_commands(self, call: Call) -> Any:
        return self.commands.get(int(call.params["guild_id"]), [])
