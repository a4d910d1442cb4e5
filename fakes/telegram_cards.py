"""The fake Telegram's bot messages as they look now: sent, then edited in place.

A message is a text message or a photo message (its words are then a caption). As Telegram
does: `editMessageText` refuses a photo message ("there is no text in the message to edit"),
`editMessageCaption` a text message; `editMessageMedia` replaces a photo or adds one to a text
message (Bot API 9: the caption comes with the media); an edit without `reply_markup` removes
the inline keyboard; an edit that changes nothing is refused ("message is not modified").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fakes.telegram_objects import Call, api_error

Key = tuple[int, int]  # chat id, message id
TEXT_LIMIT = 4096  # Telegram counts characters after entity parsing
CAPTION_LIMIT = 1024


@dataclass
class Shown:
    """One bot message as a user sees it now."""

    words: str
    photo: bytes | None = None
    keyboard: Any = None

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of its inline buttons, row by row."""
        rows = (self.keyboard or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class BotMessages:
    """What the bot's messages show; the Bot API methods that make and edit them."""

    def __init__(self) -> None:
        self.messages: dict[Key, Shown] = {}
        self.identical_edits = 0

    @property
    def shown(self) -> dict[Key, str]:
        """The words (text or caption) each bot message shows now."""
        return {key: m.words for key, m in self.messages.items()}

    def _bot_message(self, call: Call, **extra: Any) -> dict[str, Any]:
        raise NotImplementedError  # the server builds message objects

    def _m_sendMessage(self, call: Call) -> Any:
        if len(call.fields["text"]) > TEXT_LIMIT:
            return api_error(400, "Bad Request: message is too long")
        message = self._bot_message(call, text=call.fields["text"])
        key = (call.fields["chat_id"], message["message_id"])
        self.messages[key] = Shown(call.fields["text"], keyboard=call.fields.get("reply_markup"))
        return message

    def _m_editMessageText(self, call: Call) -> Any:
        shown = self._editable(call)
        if isinstance(shown, web.Response):
            return shown
        if shown.photo is not None:
            return api_error(400, "Bad Request: there is no text in the message to edit")
        if len(call.fields["text"]) > TEXT_LIMIT:
            return api_error(400, "Bad Request: MESSAGE_TOO_LONG")
        return self._change(call, shown, Shown(call.fields["text"], None, self._keyboard(call)))

    def _m_editMessageCaption(self, call: Call) -> Any:
        shown = self._editable(call)
        if isinstance(shown, web.Response):
            return shown
        if shown.photo is None:
            return api_error(400, "Bad Request: there is no caption in the message to edit")
        caption = str(call.fields.get("caption", ""))
        if len(caption) > CAPTION_LIMIT:
            return api_error(400, "Bad Request: message caption is too long")
        return self._change(call, shown, Shown(caption, shown.photo, self._keyboard(call)))

    def _m_editMessageMedia(self, call: Call) -> Any:
        shown = self._editable(call)
        if isinstance(shown, web.Response):
            return shown
        media = call.fields["media"]
        if media.get("type") != "photo":
            return api_error(400, "Bad Request: wrong media type for this fake")
        caption = str(media.get("caption", ""))
        if len(caption) > CAPTION_LIMIT:
            return api_error(400, "Bad Request: message caption is too long")
        photo = call.file_at(str(media["media"]))
        return self._change(call, shown, Shown(caption, photo, self._keyboard(call)))

    def _editable(self, call: Call) -> Shown | web.Response:
        shown = self.messages.get((call.fields["chat_id"], call.fields["message_id"]))
        if shown is None:
            return api_error(400, "Bad Request: message to edit not found")
        return shown

    @staticmethod
    def _keyboard(call: Call) -> Any:
        return call.fields.get("reply_markup")

    def _change(self, call: Call, shown: Shown, after: Shown) -> Any:
        if after == shown:
            self.identical_edits += 1
            return api_error(400, "Bad Request: message is not modified")
        shown.words, shown.photo, shown.keyboard = after.words, after.photo, after.keyboard
        extra: dict[str, Any] = {"caption": after.words} if after.photo else {"text": after.words}
        if after.photo is not None:
            extra["photo"] = [
                {"file_id": "preview", "file_unique_id": "p", "width": 32, "height": 18}
            ]
        message = self._bot_message(call, **extra)
        message["message_id"] = call.fields["message_id"]
        return message
