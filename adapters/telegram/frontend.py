"""The engine's view of Telegram: status messages that follow the job, and the finished video.

Each job has one status message, a reply to the user's request, edited in place. The handler
sends it at once ("checking your files…") and puts its id in the job's `reply_target`; events
edit it through the shared `CardEditor` (`adapters.chat.cards`). A job that has none (a
re-roll, or one left over from an earlier run whose message was already taken) gets a new one
on its first event. While the job may be stopped the card has a Stop button; its first preview
turns it into a photo card (`editMessageMedia` adds the photo, the text becomes its caption),
whose caption the later events edit.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
from pathlib import Path
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    ReplyParameters,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, RetryAfter

from adapters.chat import texts
from adapters.chat.cards import JobCards
from adapters.chat.delivery import fit_video, scratch
from adapters.chat.edits import CardEditor, Edit, Face
from adapters.chat.markup import PLAIN
from adapters.telegram.config import TelegramConfig
from bot.frontend import Config, Job, JobResult, Mode, fit, probe, thumbnail

log = logging.getLogger(__name__)
CAPTION_LIMIT = 1024  # characters in a Telegram media caption

PLATFORM = "telegram"
SEND_ATTEMPTS = 3
PREVIEW_TIMEOUT = 20.0  # seconds for one preview upload; a slow one is dropped, not waited on
Key = tuple[int, int]  # chat id, message id
# What Telegram answers when a card's kind (text or photo) is not what the edit expected.
WRONG_KIND = ("no text in the message", "no caption in the message")


def flood_wait(exc: BaseException) -> float | None:
    """Telegram's flood-wait hook: the seconds a `RetryAfter` asks to wait, else None."""
    if not isinstance(exc, RetryAfter):
        return None
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def result_buttons(job: Job) -> InlineKeyboardMarkup:
    """Reroll, Extend (image to video) and Details; the callback data holds only the job id,
    the store the rest."""
    row = [InlineKeyboardButton("🎲 Reroll", callback_data=f"reroll:{job.id}")]
    if job.mode is Mode.I2V:
        row.append(InlineKeyboardButton("⏩ Extend", callback_data=f"extend:{job.id}"))
    row.append(InlineKeyboardButton("ℹ️ Details", callback_data=f"details:{job.id}"))
    return InlineKeyboardMarkup([row])


def stop_button(job_id: str | None) -> InlineKeyboardMarkup | None:
    """The card's Stop button while its job may be stopped (without it an edit removes it)."""
    if job_id is None:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton("⏹ Stop", callback_data=f"stop:{job_id}")]])


def thread_of(target: dict[str, Any]) -> int | None:
    """The forum topic the request came from, so answers stay in it."""
    thread = target.get("thread_id")
    return None if thread is None else int(thread)


def reply_to(target: dict[str, Any]) -> ReplyParameters | None:
    message_id = target.get("message_id")
    if message_id is None:
        return None
    return ReplyParameters(message_id=int(message_id), allow_sending_without_reply=True)


async def retrying(send: Any, *args: Any, **kwargs: Any) -> Any:
    """Call `send`, waiting out flood control a few times; other errors go to the caller."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await send(*args, **kwargs)
        except RetryAfter as exc:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            await asyncio.sleep(flood_wait(exc) or 0)
    raise AssertionError("unreachable")


class TelegramFrontEnd(JobCards[Key]):
    """Implements `bot.frontend.FrontEnd` for Telegram."""

    platform = PLATFORM

    def __init__(self, bot: Bot, config: Config, telegram: TelegramConfig) -> None:
        editor = CardEditor[Key](self._edit, telegram.edit_interval, flood_wait=flood_wait)
        super().__init__(editor, PLAIN, MessageLimit.MAX_TEXT_LENGTH)
        self.bot = bot
        self.config = config
        self.telegram = telegram
        # job id -> its status message; status messages already used by some job.
        self._status: dict[str, int] = {}
        self._taken: set[Key] = set()

    def claim(self, chat_id: int, message_id: int, job_id: str | None = None) -> None:
        """Mark a status message as used (by `job_id`, or by a job that has finished)."""
        self._taken.add((chat_id, message_id))
        if job_id is not None:
            self._status[job_id] = message_id

    async def _edit(self, key: Key, edit: Edit) -> None:
        """One card edit: the photo (with the text as its caption), the caption of a photo
        card, or the text of a text card; the Stop button while the job may be stopped."""
        try:
            if edit.picture is not None:
                await self._edit_photo(key, edit)
            else:
                await self._edit_words(key, edit.face, caption=edit.pictured)
        except BadRequest as exc:
            # The text is already shown (e.g. after a restart); nothing to do.
            if "not modified" not in exc.message.lower():
                raise

    async def _edit_photo(self, key: Key, edit: Edit) -> None:
        assert edit.picture is not None
        media = InputMediaPhoto(
            edit.picture.data,
            caption=fit(edit.face.text, CAPTION_LIMIT),
            filename=edit.picture.filename,
        )
        await self.bot.edit_message_media(
            media,
            chat_id=key[0],
            message_id=key[1],
            reply_markup=stop_button(edit.face.stop),
            write_timeout=PREVIEW_TIMEOUT,
            read_timeout=PREVIEW_TIMEOUT,
        )

    async def _edit_words(self, key: Key, face: Face, *, caption: bool) -> None:
        """The text of a text card, or the caption of a photo card; where the card turns out
        to be of the other kind (an edit that raced the first photo), the other way."""
        for as_caption in (caption, not caption):
            try:
                if as_caption:
                    await self.bot.edit_message_caption(
                        chat_id=key[0],
                        message_id=key[1],
                        caption=fit(face.text, CAPTION_LIMIT),
                        reply_markup=stop_button(face.stop),
                    )
                else:
                    await self.bot.edit_message_text(
                        face.text,
                        chat_id=key[0],
                        message_id=key[1],
                        reply_markup=stop_button(face.stop),
                    )
                return
            except BadRequest as exc:
                if as_caption != caption or not any(w in exc.message for w in WRONG_KIND):
                    raise

    # -- JobCards ----------------------------------------------------------------------------

    def existing_card(self, job: Job) -> Key | None:
        """The job's status message: known, or the acknowledgement if no other job took it."""
        chat_id = int(job.reply_target["chat_id"])
        message_id = self._status.get(job.id)
        if message_id is None:
            ack = job.reply_target.get("ack_message_id")
            if ack is not None and (chat_id, int(ack)) not in self._taken:
                message_id = int(ack)
                self.claim(chat_id, message_id, job.id)
        return None if message_id is None else (chat_id, message_id)

    def group_card(self, job: Job) -> Key | None:
        ack = job.reply_target.get("ack_message_id")
        return None if ack is None else (int(job.reply_target["chat_id"]), int(ack))

    async def post_card(self, job: Job, face: Face) -> Key | None:
        chat_id = int(job.reply_target["chat_id"])
        sent = await self.bot.send_message(
            chat_id,
            face.text,
            reply_parameters=reply_to(job.reply_target),
            message_thread_id=thread_of(job.reply_target),
            reply_markup=stop_button(face.stop),
        )
        self.claim(chat_id, sent.message_id, job.id)
        return chat_id, sent.message_id

    def forget(self, job: Job) -> None:
        self._status.pop(job.id, None)

    # -- deliveries --------------------------------------------------------------------------

    async def deliver(self, job: Job, result: JobResult) -> None:
        """Send the video (fitted to the upload limit) with its caption and buttons."""
        target = job.reply_target
        chat_id = int(target["chat_id"])
        async with scratch("wanbot-tg-") as folder:
            plan = await fit_video(self.config, result, folder, self.telegram.max_upload_bytes())
            if plan.kind == "file" and plan.path is not None:
                await self._send_video(job, result, plan.path, plan.message, folder)
            else:
                await retrying(
                    self.bot.send_message,
                    chat_id,
                    plan.message or "",
                    reply_parameters=reply_to(target),
                    message_thread_id=thread_of(target),
                    reply_markup=result_buttons(job),
                )
        await result.sent()  # the engine records it: nothing is sent twice
        await self.delivered(job)

    async def _send_video(
        self, job: Job, result: JobResult, path: Path, note: str | None, folder: Path
    ) -> None:
        info = await probe(path)
        thumb = await thumbnail(path, folder / "thumb.jpg")
        room = CAPTION_LIMIT - (len(note) + 1 if note else 0)
        caption = texts.caption(
            result.request,
            self.markup,
            limit=room,
            duration=info.duration,
            gpu_seconds=result.gpu_seconds,
        )
        if note:
            caption = f"{caption}\n{note}"
        video_bytes = await asyncio.to_thread(path.read_bytes)
        thumb_bytes = await asyncio.to_thread(thumb.read_bytes)
        await retrying(
            self.bot.send_video,
            int(job.reply_target["chat_id"]),
            video=InputFile(video_bytes, filename=f"wanbot_{job.id}.mp4"),
            duration=max(1, round(info.duration)),
            width=info.width,
            height=info.height,
            thumbnail=InputFile(thumb_bytes, filename="thumb.jpg", attach=True),
            supports_streaming=True,
            caption=caption,
            reply_parameters=reply_to(job.reply_target),
            message_thread_id=thread_of(job.reply_target),
            reply_markup=result_buttons(job),
        )

    async def close(self) -> None:
        await self.editor.close()
