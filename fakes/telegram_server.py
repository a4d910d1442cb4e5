"""A fake Telegram Bot API: a real aiohttp server on 127.0.0.1 that python-telegram-bot talks to.

Point the real client at it with `ApplicationBuilder().base_url(fake.base_url)
.base_file_url(fake.base_file_url)`. Tests push updates as users would send them
(`send_message`, `press_button`), then wait for what the bot sent (`wait_for`), and assert on
the recorded calls: every request's fields (JSON-decoded where they are JSON) and uploaded files.

Speaks: getMe, deleteWebhook, setWebhook, getUpdates (offsets, long-poll timeout that returns as
soon as an update is queued), getFile + downloads under the file URL, sendMessage,
editMessageText, editMessageCaption, editMessageMedia (`fakes.telegram_cards`: what each bot
message shows now, text or photo, and its buttons), sendVideo (multipart, `attach://`
resolved), sendChatAction, answerCallbackQuery, setMyCommands; a text over 4096 characters or
a caption over 1024 is refused with 400, as by Telegram. `fail_next(method, retry_after)`
answers the next call of a method with 429 Too Many Requests, `fail_next(method, status=502)`
with a server error. A request with another token gets 401 Unauthorized, as from Telegram.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from aiohttp import web

from fakes.forms import read_form
from fakes.telegram_cards import CAPTION_LIMIT, BotMessages
from fakes.telegram_objects import (
    BOT_ID,
    Call,
    api_error,
    bot_message,
    bot_user,
    decode,
    user,
    user_message,
)

__all__ = ["BOT_ID", "BOT_USERNAME", "EDITS", "TOKEN", "Call", "FakeTelegram"]

# The edits of a card (a text card's text, a photo card's caption or photo), and the methods
# that show a message's words.
EDITS = ("editMessageText", "editMessageCaption", "editMessageMedia")
CARD_METHODS = ("sendMessage", *EDITS)

TOKEN = "123456:TEST-TOKEN"
BOT_USERNAME = "wan_test_bot"


class FakeTelegram(BotMessages):
    """The fake server and its state. Use `async with FakeTelegram() as tg:`."""

    def __init__(self, token: str = TOKEN, username: str = BOT_USERNAME) -> None:
        super().__init__()
        self.token = token
        self.username = username
        self.calls: list[Call] = []
        self.commands: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._acknowledged = 0
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._files: dict[str, tuple[str, bytes, int]] = {}
        self._declared: dict[str, int] = {}  # file_id -> the size its message claims
        # method -> (HTTP status, retry_after) for each of its next calls to fail.
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (again, after `stop`, on the same port: the bot's URLs stay valid)."""
        self._closing = False
        app = web.Application(client_max_size=2**31)
        app.router.add_post(f"/bot{self.token}/{{method}}", self._api)
        app.router.add_get(f"/bot{self.token}/{{method}}", self._api)
        app.router.add_get(f"/file/bot{self.token}/{{path:.*}}", self._download)
        app.router.add_route("*", "/bot{token}/{method}", self._unauthorized)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def stop(self) -> None:
        """Stop answering, as an unreachable Telegram; `start()` brings it back, state kept."""
        await self.close()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what users do -----------------------------------------------------------------------

    def add_file(
        self,
        data: bytes,
        *,
        size: int | None = None,
        name: str = "file",
        declared: int | None = None,
    ) -> str:
        """Store a file the bot may download; returns its file_id. `size` may lie (big files);
        `declared` is what the message says, when it says something else than `getFile`."""
        file_id = f"file-{next(self._file_ids)}"
        self._files[file_id] = (
            f"documents/{file_id}_{name}",
            data,
            len(data) if size is None else size,
        )
        if declared is not None:
            self._declared[file_id] = declared
        return file_id

    def forget_file(self, file_id: str) -> None:
        """Make `file_id` unknown, as Telegram does with an expired or foreign one."""
        del self._files[file_id]

    def file_meta(self, file_id: str) -> dict[str, Any]:
        _, _, size = self._files[file_id]
        size = self._declared.get(file_id, size)
        return {"file_id": file_id, "file_unique_id": "u" + file_id, "file_size": size}

    def photo(self, data: bytes, width: int = 64, height: int = 48) -> list[dict[str, Any]]:
        """A `photo` array (a thumbnail and the full size), as Telegram sends it."""
        small = self.add_file(data[: max(1, len(data) // 4)], name="thumb.jpg")
        full = self.add_file(data, name="photo.jpg")
        return [
            {**self.file_meta(small), "width": width // 4 or 1, "height": height // 4 or 1},
            {**self.file_meta(full), "width": width, "height": height},
        ]

    def voice(self, data: bytes, duration: int = 2) -> dict[str, Any]:
        fid = self.add_file(data, name="voice.ogg")
        return {**self.file_meta(fid), "duration": duration, "mime_type": "audio/ogg"}

    def audio(self, data: bytes, duration: int = 2, mime: str = "audio/x-wav") -> dict[str, Any]:
        fid = self.add_file(data, name="song.wav")
        return {**self.file_meta(fid), "duration": duration, "mime_type": mime}

    def video(self, data: bytes, width: int = 64, height: int = 48) -> dict[str, Any]:
        fid = self.add_file(data, name="clip.mp4")
        meta = {"width": width, "height": height, "duration": 1, "mime_type": "video/mp4"}
        return {**self.file_meta(fid), **meta}

    def video_note(self, data: bytes, length: int = 64) -> dict[str, Any]:
        """A round video message: square, with sound, no mime type or name."""
        fid = self.add_file(data, name="note.mp4")
        return {**self.file_meta(fid), "length": length, "duration": 1}

    def document(
        self,
        data: bytes,
        mime: str,
        name: str = "file.bin",
        size: int | None = None,
        declared: int | None = None,
    ) -> dict[str, Any]:
        fid = self.add_file(data, size=size, name=name, declared=declared)
        return {**self.file_meta(fid), "file_name": name, "mime_type": mime}

    def make_message(self, **fields: Any) -> dict[str, Any]:
        """A Message object from a user (see `telegram_objects.user_message` for the fields)."""
        return user_message(next(self._message_ids), **fields)

    async def push(self, **kinds: Any) -> int:
        """Queue one update (e.g. `message=...`); wakes any waiting getUpdates."""
        update_id = next(self._update_ids)
        async with self._changed:
            self._updates.append({"update_id": update_id, **kinds})
            self._changed.notify_all()
        return update_id

    async def send_message(self, **kwargs: Any) -> dict[str, Any]:
        """Build a message from a user (see `make_message`), queue it, return it."""
        message = self.make_message(**kwargs)
        await self.push(message=message)
        return message

    async def press_button(self, message: dict[str, Any], data: str, *, user_id: int = 111) -> str:
        """A user presses an inline button with `data` under the bot's `message`."""
        query_id = f"cq-{next(self._update_ids)}"
        query = {
            "id": query_id,
            "from": user(user_id),
            "chat_instance": "ci",
            "message": message,
            "data": data,
        }
        await self.push(callback_query=query)
        return query_id

    def fail_next(
        self, method: str, retry_after: int = 1, times: int = 1, status: int = 429
    ) -> None:
        """Answer the next `times` calls of `method` with 429 and `retry_after` (or `status`)."""
        self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    # -- waiting and asserting ---------------------------------------------------------------

    def of(self, method: str | tuple[str, ...]) -> list[Call]:
        """The recorded calls of `method` (or of any of several, e.g. `EDITS`), in order."""
        methods = (method,) if isinstance(method, str) else method
        return [c for c in self.calls if c.method in methods]

    async def wait_for(
        self,
        method: str | tuple[str, ...],
        where: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        within: float = 20.0,
    ) -> Call:
        """The `count`-th recorded call of `method` matching `where`, waiting as needed."""

        def found() -> list[Call]:
            return [c for c in self.of(method) if where is None or where(c)]

        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(lambda: len(found()) >= count)
        return found()[count - 1]

    async def wait_text(self, needle: str, *, within: float = 20.0) -> Call:
        """The first message sent or edited whose text (or caption: a photo card's words)
        contains `needle`."""

        def has(call: Call) -> bool:
            return call.method in CARD_METHODS and needle in (call.words or "")

        async with asyncio.timeout(within):
            async with self._changed:
                await self._changed.wait_for(lambda: any(has(c) for c in self.calls))
        return next(c for c in self.calls if has(c))

    def texts(self, chat_id: int | None = None) -> list[str]:
        """Texts the bot sent or edited (a photo card's captions too), in order."""
        return [
            c.words
            for c in self.calls
            if c.words is not None
            and c.method in CARD_METHODS
            and (chat_id is None or c.fields.get("chat_id") == chat_id)
        ]

    # -- the API -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = await read_form(request)
        fields: dict[str, Any] = {k: decode(v) for k, v in form.fields.items()}
        files = {k: upload.data for k, upload in form.files.items()}
        filenames = {k: upload.filename for k, upload in form.files.items()}
        fields.update({k: decode(v) for k, v in request.query.items()})
        if method == "getUpdates":
            return await self._get_updates(fields)
        call = Call(method, fields, files, filenames)
        pending = self._failures.get(method)
        if pending:
            status, retry = pending.pop(0)
            call.response = {"retry_after": retry} if status == 429 else {"status": status}
            await self._record(call)
            if status != 429:
                return api_error(status, "Bad Gateway" if status == 502 else "Server Error")
            return api_error(
                429,
                f"Too Many Requests: retry after {retry}",
                parameters={"retry_after": retry},
            )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            result: Any = True
        else:
            result = handler(call)
            if isinstance(result, web.Response):
                await self._record(call)
                return result
        call.response = result
        await self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _unauthorized(self, request: web.Request) -> web.Response:
        await self._record(Call(request.match_info["method"], {}, response={"status": 401}))
        return api_error(401, "Unauthorized")

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _get_updates(self, fields: dict[str, Any]) -> web.Response:
        await self._record(Call("getUpdates", fields))
        offset = int(fields.get("offset") or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(fields.get("timeout") or 0)
        limit = int(fields.get("limit") or 100)

        def ready() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset][:limit]

        if not ready() and timeout > 0 and not self._closing:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(lambda: bool(ready()) or self._closing)
            except TimeoutError:
                pass
        return web.json_response({"ok": True, "result": ready()})

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for stored_path, data, _ in self._files.values():
            if stored_path == path:
                return web.Response(body=data)
        return web.Response(status=404)

    def _bot_user(self) -> dict[str, Any]:
        return bot_user(self.username)

    def _bot_message(self, call: Call, **extra: Any) -> dict[str, Any]:
        return bot_message(next(self._message_ids), call, self._bot_user(), **extra)

    def _m_getMe(self, call: Call) -> Any:
        return self._bot_user()

    def _m_getFile(self, call: Call) -> Any:
        file_id = call.fields["file_id"]
        if file_id not in self._files:
            return api_error(400, "Bad Request: invalid file_id")
        path, _, size = self._files[file_id]
        if size > 20 * 1024 * 1024:
            return api_error(400, "Bad Request: file is too big")
        return {**self.file_meta(file_id), "file_size": size, "file_path": path}

    def _m_sendVideo(self, call: Call) -> Any:
        video = call.file("video")
        fid = self.add_file(video, name="result.mp4")
        meta = {
            **self.file_meta(fid),
            "width": call.fields.get("width", 0),
            "height": call.fields.get("height", 0),
            "duration": call.fields.get("duration", 0),
        }
        extra: dict[str, Any] = {"video": meta}
        if len(call.fields.get("caption", "")) > CAPTION_LIMIT:
            return api_error(400, "Bad Request: message caption is too long")
        if "caption" in call.fields:
            extra["caption"] = call.fields["caption"]
        return self._bot_message(call, **extra)

    def _m_setMyCommands(self, call: Call) -> Any:
        self.commands = list(call.fields.get("commands", []))
        return True
