"""What the bot does with each message and button press.

All messages go through one `MessageHandler`: `CommandHandler` ignores captions, and most
requests here are captioned photos or replies, so `parse.py` finds the command and the files.
Every entry point (a command, an album, a photo that completes a /talk, a button press) runs
inside `_guard`: the allow-list first, then the work, and the shared error policy
(`adapters.chat.actions.reply_for`) for whatever it raises. Commands are routed by a table.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, MessageLimit
from telegram.ext import ContextTypes

from adapters.chat import texts as shared
from adapters.chat.actions import JobActions, User, job_id_of, reply_for
from adapters.chat.markup import PLAIN
from adapters.telegram import texts
from adapters.telegram.admin import ADMIN_COMMANDS, AdminCommands
from adapters.telegram.albums import AlbumCollector
from adapters.telegram.config import TelegramConfig
from adapters.telegram.files import download_draft
from adapters.telegram.frontend import PLATFORM, TelegramFrontEnd, reply_to, retrying
from adapters.telegram.parse import (
    JOB_COMMANDS,
    AwaitPhoto,
    Command,
    Draft,
    album_command,
    draft_from_album,
    draft_from_message,
    draft_from_pair,
    draft_with_end,
    drafts_per_photo,
    image_of,
    message_command,
    wants_end,
)
from adapters.telegram.pending import PendingTalks
from bot.frontend import (
    Ask,
    Config,
    InputFiles,
    Order,
    QueueStatus,
    Sender,
    UserError,
    duration_text,
    echo,
    fit,
)

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

log = logging.getLogger(__name__)
# Buttons that act on a job; the callback data is `<action>:<job id>`.
JOB_BUTTONS = ("cancel", "stop", "reroll", "extend", "details")
ALERT_LIMIT = 200  # characters in a button press's alert


async def answer(message: Message, text: str, **kwargs: Any) -> Message:
    """Reply to `message`, quoting it (also in private chats), in its forum topic if any.

    Flood control (`RetryAfter`) is waited out a few times before giving up. A text over
    Telegram's limit is cut to it: a refused answer would leave the user with nothing.
    """
    sent: Message = await retrying(
        message.get_bot().send_message,
        message.chat_id,
        fit(text, MessageLimit.MAX_TEXT_LENGTH),
        reply_parameters=reply_to({"message_id": message.message_id}),
        message_thread_id=message.message_thread_id if message.is_topic_message else None,
        **kwargs,
    )
    return sent


class Reply:
    """Where the answer to a message goes: its status message once it has one (an error then
    replaces "checking your files…"), else a reply to the message."""

    def __init__(self, message: Message) -> None:
        self.message = message
        self.status: Message | None = None

    async def __call__(self, text: str) -> None:
        if self.status is not None:
            await self.status.edit_text(fit(text, MessageLimit.MAX_TEXT_LENGTH))
        else:
            await answer(self.message, text)


Route = Callable[[Reply, Command], Awaitable[None]]


class Handlers:
    def __init__(
        self,
        engine: EngineAPI,
        frontend: TelegramFrontEnd,
        config: Config,
        telegram: TelegramConfig,
    ) -> None:
        self.engine = engine
        self.frontend = frontend
        self.config = config
        self.telegram = telegram
        self.albums = AlbumCollector(telegram.album_window, self._on_album)
        self.pending = PendingTalks(telegram.talk_wait)
        self.username = ""
        self.admin = AdminCommands(engine, config, answer)
        self.actions = JobActions(engine, config, PLAIN, MessageLimit.MAX_TEXT_LENGTH)
        self.routes: dict[str, Route] = {
            "help": self._help,
            "start": self._help,
            "queue": self._queue,
            "cancel": self._cancel,
            "settings": self._settings,
            "quota": self._quota,
            "extend": self._extend,
            **dict.fromkeys(JOB_COMMANDS, self._job_command),
            **dict.fromkeys(ADMIN_COMMANDS, self._admin),
        }

    @property
    def bot(self) -> Any:
        return self.frontend.bot

    def allowed(self, user_id: int | None, chat_id: int | None) -> bool:
        """Everyone when both lists are empty; else an admin, a listed user, or anyone in a
        listed chat."""
        users, chats = self.telegram.allowed_users, self.telegram.allowed_chats
        if not users and not chats:
            return True
        if user_id is not None and self.admin.is_admin(user_id):
            return True
        return (user_id is not None and user_id in users) or (
            chat_id is not None and chat_id in chats
        )

    def user(self, user_id: int) -> User:
        """Who acts, with the admin decision the engine honours."""
        return User(PLATFORM, str(user_id), admin=self.admin.is_admin(user_id))

    # -- entry points (registered in app.py) ---------------------------------------------------

    async def _guard(
        self,
        user_id: int | None,
        chat_id: int | None,
        say: Callable[[str], Awaitable[object]],
        work: Callable[[], Awaitable[None]],
    ) -> None:
        """The one way in: the allow-list, then `work`; whatever it raises is answered by the
        error policy (a `UserError` verbatim, anything else logged with a reference)."""
        try:
            if not self.allowed(user_id, chat_id):
                raise UserError(shared.NOT_ALLOWED)
            await work()
        except Exception as exc:
            await say(reply_for(exc, f"update from user {user_id} in chat {chat_id}"))

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        if message.media_group_id is not None:
            self.albums.add(message)
            return
        reply = Reply(message)
        command = message_command(message, self.username)
        if command is not None:
            route = self.routes.get(command.name, self._unknown)
            work = lambda: route(reply, command)  # noqa: E731
        else:
            # A plain photo may complete a /talk that is waiting for its portrait.
            waiting = None
            if image_of(message) is not None:
                waiting = self.pending.take(message.chat_id, message.from_user.id)
            if waiting is None:
                return  # not for the bot
            work = lambda: self._complete_talk(reply, waiting)  # noqa: E731
        await self._guard(message.from_user.id, message.chat_id, reply, work)

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not query.data:
            return
        chat_id = query.message.chat.id if query.message is not None else None

        async def alert(text: str) -> None:
            await query.answer(text[:ALERT_LIMIT], show_alert=True)

        await self._guard(query.from_user.id, chat_id, alert, lambda: self._button(query))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("unhandled error for update %r", update, exc_info=context.error)

    # -- commands ----------------------------------------------------------------------------

    async def _unknown(self, reply: Reply, command: Command) -> None:
        if reply.message.chat.type == ChatType.PRIVATE:
            await reply(texts.UNKNOWN_COMMAND.format(command=echo(command.name)))

    async def _admin(self, reply: Reply, command: Command) -> None:
        await self.admin.handle(reply.message, command)

    async def _quota(self, reply: Reply, command: Command) -> None:
        await reply(await self.actions.quota(self._user_of(reply)))

    def _user_of(self, reply: Reply) -> User:
        assert reply.message.from_user is not None
        return self.user(reply.message.from_user.id)

    async def _help(self, reply: Reply, command: Command) -> None:
        limit = min(self.telegram.max_download_bytes(), self.config.limits.max_input_bytes)
        await reply(texts.help_text(limit))

    async def _job_command(self, reply: Reply, command: Command) -> None:
        message = reply.message
        draft = draft_from_message(message, command)
        if isinstance(draft, AwaitPhoto):
            assert message.from_user is not None
            self.pending.put(message.chat_id, message.from_user.id, draft)
            wait = duration_text(self.telegram.talk_wait)  # "1 min", "90 s": never "1 minutes"
            await reply(texts.AWAIT_PHOTO.format(wait=wait))
            return
        await self._submit(reply, draft)

    async def _complete_talk(self, reply: Reply, waiting: AwaitPhoto) -> None:
        image = image_of(reply.message)
        assert image is not None
        draft = Draft(
            JOB_COMMANDS["talk"], waiting.prompt, waiting.overrides, image, audio=waiting.audio
        )
        await self._submit(reply, draft)

    async def _on_album(self, messages: list[Message]) -> None:
        first = min(messages, key=lambda m: m.message_id)
        if first.from_user is None or first.from_user.is_bot:
            return
        command = album_command(messages, self.username)
        if command is None:
            return
        reply = Reply(first)

        async def work() -> None:
            if command.name == "animate":
                await self._submit(reply, draft_from_album(messages, command))
            elif command.name == "animate2":
                await self._submit(reply, draft_from_pair(messages, command))
            elif wants_end(command):
                await self._submit(reply, draft_with_end(messages, command))
            elif command.name == "i2v":
                # /i2v on an album of photos: one job per photo, on one card.
                await self._submit(reply, *drafts_per_photo(messages, command))
            elif command.name not in JOB_COMMANDS:
                await reply(texts.ALBUM_NEEDS_ANIMATE)
            else:
                # /talk on one album item: that item alone is the request.
                reply.message = next(m for m in messages if message_command(m, self.username))
                await self._job_command(reply, command)

        await self._guard(first.from_user.id, first.chat_id, reply, work)

    async def _submit(self, reply: Reply, *drafts: Draft) -> None:
        """Admit (blocks, drain, caps, quota: no file needed), acknowledge, download, hand to
        the engine (several drafts: one job each, on one card); from the acknowledgement on,
        an error is shown on it."""
        message = reply.message
        user = self._user_of(reply)
        sender = Sender(PLATFORM, user.user_id, str(message.chat_id), admin=user.admin)
        async with self.engine.admission(sender, [d.overrides for d in drafts]) as ticket:
            ack = await answer(message, shared.CHECKING)
            reply.status = ack
            self.frontend.editor.remember((message.chat_id, ack.message_id), shared.CHECKING)
            target = {
                "chat_id": message.chat_id,
                "message_id": message.message_id,
                "ack_message_id": ack.message_id,
                "thread_id": message.message_thread_id if message.is_topic_message else None,
            }
            folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="wanbot-tg-"))
            try:
                found = await self._download(drafts, folder)
                orders = [
                    Order(Ask(d.mode, d.prompt, inputs, d.overrides), sender, target)
                    for d, inputs in zip(drafts, found, strict=True)
                ]
                await self.engine.submit_all(orders, ticket)
            finally:
                await asyncio.to_thread(shutil.rmtree, folder, True)

    async def _download(self, drafts: Sequence[Draft], folder: Path) -> list[InputFiles]:
        """Each draft's files, in a folder of its own under `folder`."""
        limit = min(self.telegram.max_download_bytes(), self.config.limits.max_input_bytes)
        found = []
        for index, draft in enumerate(drafts):
            own = folder / str(index)
            await asyncio.to_thread(own.mkdir)
            found.append(await download_draft(self.bot, draft, own, limit))
        return found

    async def _queue(self, reply: Reply, command: Command) -> None:
        text, status = await self.actions.queue(self._user_of(reply))
        await answer(reply.message, text, reply_markup=cancel_buttons(status))

    async def _extend(self, reply: Reply, command: Command) -> None:
        """`/extend <job> [new prompt]`: continue a finished clip from its last frame."""
        job_id, _, prompt = command.args.strip().partition(" ")
        wanted = job_id_of(job_id)
        if wanted is None:
            raise UserError(texts.EXTEND_USAGE)
        new = await self.actions.again("extend", self._user_of(reply), wanted, prompt=prompt)
        await reply(self.actions.again_text("extend", new))

    async def _settings(self, reply: Reply, command: Command) -> None:
        user = self._user_of(reply)
        change, reset = texts.SETTINGS_CHANGE, texts.SETTINGS_RESET
        await reply(await self.actions.user_defaults(user, command.args, change, reset))

    async def _cancel(self, reply: Reply, command: Command) -> None:
        await reply(await self.actions.cancel(self._user_of(reply), job_id_of(command.args)))

    # -- buttons ---------------------------------------------------------------------------

    async def _button(self, query: CallbackQuery) -> None:
        """Every job button checks that the presser owns the job (or is an admin) first."""
        action, _, job_id = (query.data or "").partition(":")
        if action not in JOB_BUTTONS:
            await query.answer()
            return
        user = self.user(query.from_user.id)
        job = await self.actions.own_job(user, job_id)
        if action in ("cancel", "stop"):
            await query.answer(await self.actions.cancel(user, job.id))
            # The card's Stop button: the card itself then says "cancelled"; /queue's Cancel
            # buttons: the list is shown again without the job.
            if action == "cancel" and isinstance(query.message, Message):
                text, status = await self.actions.queue(user)
                await query.message.edit_text(text, reply_markup=cancel_buttons(status))
        elif action in ("reroll", "extend"):
            ack = job.reply_target.get("ack_message_id")
            if ack is not None:
                # The old job's status message stays as it is; the new job gets its own.
                self.frontend.claim(int(job.reply_target["chat_id"]), int(ack))
            new = await self.actions.again(action, user, job.id)
            await query.answer(self.actions.again_text(action, new))
        else:
            await query.answer()
            if query.message is None:
                return
            # The message may be too old to be accessible; the reply still goes to its chat.
            target = reply_to({"message_id": query.message.message_id})
            for chunk in self.actions.details(job):
                await self.bot.send_message(query.message.chat.id, chunk, reply_parameters=target)

    async def close(self) -> None:
        await self.albums.close()


def cancel_buttons(status: QueueStatus) -> InlineKeyboardMarkup | None:
    """One Cancel button per job of `/queue`."""
    buttons = [
        [InlineKeyboardButton(f"✖ Cancel {v.id}", callback_data=f"cancel:{v.id}")]
        for v in status.jobs
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None
