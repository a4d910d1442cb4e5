"""What the bot does with each message and button press.

All messages go through one `MessageHandler`: `CommandHandler` ignores captions, and most
requests here are captioned photos or replies, so `parse.py` finds the command and the files.
Every handler runs inside `_guarded`: a `UserError` is answered with its message, anything else
is logged with its traceback and answered with a short reference, never the exception text.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import RetryAfter
from telegram.ext import ContextTypes

from adapters.telegram import texts
from adapters.telegram.admin import ADMIN_COMMANDS, AdminCommands
from adapters.telegram.albums import AlbumCollector
from adapters.telegram.config import TelegramConfig
from adapters.telegram.edits import retry_seconds
from adapters.telegram.files import download_draft
from adapters.telegram.frontend import PLATFORM, TelegramFrontEnd, reply_to
from adapters.telegram.parse import (
    JOB_COMMANDS,
    AwaitPhoto,
    Command,
    Draft,
    album_command,
    draft_from_album,
    draft_from_message,
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
    Job,
    Order,
    Sender,
    UserError,
    default_negative,
    describe_user_defaults,
    details_text,
    duration_text,
    echo,
    fit,
    pieces,
    quota_text,
    user_key,
)

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

log = logging.getLogger(__name__)
ANSWER_ATTEMPTS = 3
# Buttons that act on a job; the callback data is `<action>:<job id>`.
JOB_BUTTONS = ("cancel", "reroll", "extend", "details")


def incident_ref() -> str:
    return secrets.token_hex(3)


async def answer(message: Message, text: str, **kwargs: Any) -> Message:
    """Reply to `message`, quoting it (also in private chats), in its forum topic if any.

    Flood control (`RetryAfter`) is waited out a few times before giving up. A text over
    Telegram's limit is cut to it: a refused answer would leave the user with nothing.
    """
    text = fit(text, MessageLimit.MAX_TEXT_LENGTH)
    for attempt in range(ANSWER_ATTEMPTS):
        try:
            return await message.get_bot().send_message(
                message.chat_id,
                text,
                reply_parameters=reply_to({"message_id": message.message_id}),
                message_thread_id=message.message_thread_id if message.is_topic_message else None,
                **kwargs,
            )
        except RetryAfter as exc:
            if attempt == ANSWER_ATTEMPTS - 1:
                raise
            await asyncio.sleep(retry_seconds(exc))
    raise AssertionError("unreachable")


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

    # -- entry points (registered in app.py) ---------------------------------------------------

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return
        if message.media_group_id is not None:
            self.albums.add(message)
            return
        await self._guarded(message, lambda: self._route(message))

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not query.data:
            return
        try:
            await self._button(query)
        except UserError as exc:
            await query.answer(str(exc)[:200], show_alert=True)
        except Exception:
            ref = incident_ref()
            log.exception("button %r failed (reference %s)", query.data, ref)
            await query.answer(texts.INTERNAL.format(ref=ref)[:200], show_alert=True)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("unhandled error for update %r", update, exc_info=context.error)

    # -- messages --------------------------------------------------------------------------

    async def _guarded(
        self,
        message: Message,
        work: Callable[[], Awaitable[None]],
        acks: Sequence[Message] = (),
    ) -> None:
        """The error policy: a `UserError` is answered with its text, anything else logged
        with a reference; the answer edits the request's acknowledgement if it has one."""
        try:
            await work()
        except UserError as exc:
            await self._say(message, acks[-1] if acks else None, str(exc))
        except Exception:
            ref = incident_ref()
            log.exception("handling message %s failed (reference %s)", message.message_id, ref)
            await self._say(message, acks[-1] if acks else None, texts.INTERNAL.format(ref=ref))

    async def _say(self, message: Message, status: Message | None, text: str) -> None:
        if status is not None:
            await status.edit_text(fit(text, MessageLimit.MAX_TEXT_LENGTH))
        else:
            await answer(message, text)

    async def _route(self, message: Message) -> None:
        user_id = message.from_user.id if message.from_user else None
        command = message_command(message, self.username)
        if command is None:
            # A plain photo may complete a /talk that is waiting for its portrait.
            if image_of(message) is not None:
                waiting = self.pending.take(message.chat_id, user_id or 0)
                if waiting is not None:
                    await self._complete_talk(message, waiting)
            return
        if not self.allowed(user_id, message.chat_id):
            await answer(message, texts.NOT_ALLOWED)
            return
        if command.name in ("help", "start"):
            await answer(message, self._help())
        elif command.name == "queue":
            await self._queue(message)
        elif command.name == "cancel":
            await self._cancel(message, command)
        elif command.name == "settings":
            await self._settings(message, command)
        elif command.name == "quota":
            assert message.from_user is not None
            user_id = message.from_user.id
            exempt = self.admin.is_admin(user_id)
            view = await self.engine.quotas.view(PLATFORM, str(user_id), exempt=exempt)
            await answer(message, quota_text(view))
        elif command.name == "extend":
            await self._extend(message, command)
        elif command.name in JOB_COMMANDS:
            await self._job_command(message, command)
        elif command.name in ADMIN_COMMANDS:
            await self.admin.handle(message, command)
        elif message.chat.type == ChatType.PRIVATE:
            await answer(message, texts.UNKNOWN_COMMAND.format(command=echo(command.name)))

    def _help(self) -> str:
        limit = min(self.telegram.max_download_bytes(), self.config.limits.max_input_bytes)
        return texts.help_text(limit)

    async def _job_command(self, message: Message, command: Command) -> None:
        draft = draft_from_message(message, command)
        if isinstance(draft, AwaitPhoto):
            assert message.from_user is not None
            self.pending.put(message.chat_id, message.from_user.id, draft)
            wait = duration_text(self.telegram.talk_wait)  # "1 min", "90 s": never "1 minutes"
            await answer(message, texts.AWAIT_PHOTO.format(wait=wait))
            return
        await self._submit(message, draft)

    async def _complete_talk(self, message: Message, waiting: AwaitPhoto) -> None:
        image = image_of(message)
        assert image is not None
        draft = Draft(
            JOB_COMMANDS["talk"], waiting.prompt, waiting.overrides, image, audio=waiting.audio
        )
        await self._submit(message, draft)

    async def _on_album(self, messages: list[Message]) -> None:
        first = min(messages, key=lambda m: m.message_id)
        if first.from_user is None or first.from_user.is_bot:
            return
        command = album_command(messages, self.username)
        if command is None:
            return
        if not self.allowed(first.from_user.id, first.chat_id):
            await answer(first, texts.NOT_ALLOWED)
            return

        async def work() -> None:
            if command.name == "animate":
                await self._submit(first, draft_from_album(messages, command))
                return
            if wants_end(command):
                await self._submit(first, draft_with_end(messages, command))
                return
            if command.name == "i2v":
                # /i2v on an album of photos: one job per photo, on one card.
                await self._submit(first, *drafts_per_photo(messages, command))
                return
            if command.name not in JOB_COMMANDS:
                await answer(first, texts.ALBUM_NEEDS_ANIMATE)
                return
            # /i2v or /talk on one album item: that item alone is the request.
            captioned = next(m for m in messages if message_command(m, self.username))
            await self._job_command(captioned, command)

        await self._guarded(first, work)

    async def _submit(self, message: Message, *drafts: Draft) -> None:
        """Admit (blocks, drain, caps, quota: no file needed), acknowledge, download, hand to
        the engine (several drafts: one job each, on one card); errors edit the
        acknowledgement, or answer the request when it was refused before one."""
        user = message.from_user
        assert user is not None
        admin = self.admin.is_admin(user.id)
        sender = Sender(PLATFORM, str(user.id), str(message.chat_id), admin=admin)
        acks: list[Message] = []

        async def work() -> None:
            async with self.engine.admission(sender, [d.overrides for d in drafts]) as ticket:
                acks.append(await answer(message, texts.RECEIVED))
                self.frontend.editor.remember(message.chat_id, acks[0].message_id, texts.RECEIVED)
                target = {
                    "chat_id": message.chat_id,
                    "message_id": message.message_id,
                    "ack_message_id": acks[0].message_id,
                    "thread_id": message.message_thread_id if message.is_topic_message else None,
                }
                folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="wanbot-tg-"))
                try:
                    orders = [
                        Order(Ask(d.mode, d.prompt, inputs, d.overrides), sender, target)
                        for d, inputs in zip(
                            drafts, await self._download(drafts, folder), strict=True
                        )
                    ]
                    await self.engine.submit_all(orders, ticket)
                finally:
                    await asyncio.to_thread(shutil.rmtree, folder, True)

        await self._guarded(message, work, acks)

    async def _download(self, drafts: Sequence[Draft], folder: Path) -> list[InputFiles]:
        """Each draft's files, in a folder of its own under `folder`."""
        limit = min(self.telegram.max_download_bytes(), self.config.limits.max_input_bytes)
        found = []
        for index, draft in enumerate(drafts):
            own = folder / str(index)
            await asyncio.to_thread(own.mkdir)
            found.append(await download_draft(self.bot, draft, own, limit))
        return found

    async def _queue(self, message: Message) -> None:
        assert message.from_user is not None
        text, markup = await self._queue_view(message.from_user.id)
        await answer(message, text, reply_markup=markup)

    async def _queue_view(self, user_id: int) -> tuple[str, InlineKeyboardMarkup | None]:
        status = await self.engine.status(PLATFORM, str(user_id))
        buttons = [
            [InlineKeyboardButton(f"✖ Cancel {v.id}", callback_data=f"cancel:{v.id}")]
            for v in status.jobs
        ]
        return texts.queue_text(status), InlineKeyboardMarkup(buttons) if buttons else None

    async def _extend(self, message: Message, command: Command) -> None:
        """`/extend <job> [new prompt]`: continue a finished clip from its last frame."""
        assert message.from_user is not None
        job_id, _, prompt = command.args.strip().partition(" ")
        if not job_id:
            raise UserError(texts.EXTEND_USAGE)
        user_id = message.from_user.id
        new = await self.engine.extend(
            job_id.strip("`"), platform=PLATFORM, user_id=str(user_id), prompt=prompt,
            as_admin=self.admin.is_admin(user_id),
        )  # fmt: skip
        await answer(message, texts.AGAIN["extend"].format(job=new.id))

    async def _settings(self, message: Message, command: Command) -> None:
        assert message.from_user is not None
        user = user_key(PLATFORM, str(message.from_user.id))
        args = command.args.strip()
        mine = self.engine.user_defaults
        values = await (mine.change(user, args) if args else mine.get(user))
        await answer(message, texts.settings_text(describe_user_defaults(values)))

    async def _cancel(self, message: Message, command: Command) -> None:
        assert message.from_user is not None
        job_id = command.args.split()[0] if command.args.split() else None
        job = await self.engine.cancel(PLATFORM, str(message.from_user.id), job_id)
        await answer(message, texts.CANCELLED.format(job=job.id))

    # -- buttons ---------------------------------------------------------------------------

    async def _button(self, query: CallbackQuery) -> None:
        """Every job button checks that the presser owns the job (or is an admin) first."""
        action, _, job_id = (query.data or "").partition(":")
        user_id = query.from_user.id
        chat_id = query.message.chat.id if query.message is not None else None
        if not self.allowed(user_id, chat_id):
            await query.answer(texts.NOT_ALLOWED, show_alert=True)
            return
        if action not in JOB_BUTTONS:
            await query.answer()
            return
        job = await self._own_job(user_id, job_id)
        if action == "cancel":
            job = await self.engine.cancel(PLATFORM, str(user_id), job.id)
            await query.answer(texts.CANCELLED.format(job=job.id))
            if isinstance(query.message, Message):
                text, markup = await self._queue_view(user_id)
                await query.message.edit_text(text, reply_markup=markup)
        elif action in ("reroll", "extend"):
            ack = job.reply_target.get("ack_message_id")
            if ack is not None:
                # The old job's status message stays as it is; the new job gets its own.
                self.frontend.claim(int(job.reply_target["chat_id"]), int(ack))
            again = self.engine.reroll if action == "reroll" else self.engine.extend
            admin = self.admin.is_admin(user_id)
            new = await again(job.id, platform=PLATFORM, user_id=str(user_id), as_admin=admin)
            await query.answer(texts.AGAIN[action].format(job=new.id))
        else:
            await self._details(query, job)

    async def _own_job(self, user_id: int, job_id: str) -> Job:
        """The job, if `user_id` made it or is an admin; else a `UserError` and nothing done."""
        job = await self.engine.get(job_id) if job_id else None
        if job is None:
            raise UserError(texts.UNKNOWN_JOB.format(job=echo(job_id)))
        presser = user_key(PLATFORM, str(user_id))
        if job.user != presser and presser not in self.config.queue.admins:
            raise UserError(texts.NOT_YOUR_JOB)
        return job

    async def _details(self, query: CallbackQuery, job: Job) -> None:
        text = details_text(
            job.id,
            job.request,
            host=job.host,
            gpu_seconds=job.gpu_seconds,
            default_negative=default_negative(self.config, job.mode),
        )
        await query.answer()
        if query.message is None:
            return
        # The message may be too old to be accessible; the reply still goes to its chat.
        target = reply_to({"message_id": query.message.message_id})
        for chunk in pieces(text, MessageLimit.MAX_TEXT_LENGTH):
            await self.bot.send_message(query.message.chat.id, chunk, reply_parameters=target)

    async def close(self) -> None:
        await self.albums.close()
