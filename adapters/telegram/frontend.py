"""The engine's view of Telegram: status messages that follow the job, and the finished video.

Each job has one status message, a reply to the user's request. The handler sends it at once
("checking your files…") and puts its id in the job's `reply_target`; events edit it through
`MessageEditor`. A job that has none (a re-roll, or one left over from an earlier run whose
message was already taken) gets a new one on its first event.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.error import RetryAfter

from adapters.telegram import texts
from adapters.telegram.config import TelegramConfig
from adapters.telegram.edits import MessageEditor, retry_seconds
from bot.frontend import (
    Config,
    GroupCards,
    Job,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobResult,
    JobStarted,
    Mode,
    default_negative,
    plan_delivery,
    probe,
    summarize,
    thumbnail,
)

log = logging.getLogger(__name__)
CAPTION_LIMIT = 1024  # characters in a Telegram media caption

PLATFORM = "telegram"
FINAL = (JobFinished, JobFailed, JobCancelled)
SEND_ATTEMPTS = 3


def result_buttons(job: Job) -> InlineKeyboardMarkup:
    """Reroll, Extend (image to video) and Details; the callback data holds only the job id,
    the store the rest."""
    row = [InlineKeyboardButton("🎲 Reroll", callback_data=f"reroll:{job.id}")]
    if job.mode is Mode.I2V:
        row.append(InlineKeyboardButton("⏩ Extend", callback_data=f"extend:{job.id}"))
    row.append(InlineKeyboardButton("ℹ️ Details", callback_data=f"details:{job.id}"))
    return InlineKeyboardMarkup([row])


def thread_of(target: dict[str, Any]) -> int | None:
    """The forum topic the request came from, so answers stay in it."""
    thread = target.get("thread_id")
    return None if thread is None else int(thread)


def reply_to(target: dict[str, Any]) -> ReplyParameters | None:
    message_id = target.get("message_id")
    if message_id is None:
        return None
    return ReplyParameters(message_id=int(message_id), allow_sending_without_reply=True)


class TelegramFrontEnd:
    """Implements `bot.frontend.FrontEnd` for Telegram."""

    platform = PLATFORM

    def __init__(self, bot: Bot, config: Config, telegram: TelegramConfig) -> None:
        self.bot = bot
        self.config = config
        self.telegram = telegram
        self.editor = MessageEditor(bot, telegram.edit_interval)
        # job id -> its status message; status messages already used by some job.
        self._status: dict[str, int] = {}
        self._taken: set[tuple[int, int]] = set()
        self._hosts: dict[str, str] = {}
        self._delivered: set[str] = set()
        self.groups = GroupCards()

    def claim(self, chat_id: int, message_id: int, job_id: str | None = None) -> None:
        """Mark a status message as used (by `job_id`, or by a job that has finished)."""
        self._taken.add((chat_id, message_id))
        if job_id is not None:
            self._status[job_id] = message_id

    def status_message_of(self, job: Job) -> int | None:
        return self._status.get(job.id)

    async def on_event(self, job: Job, event: JobEvent) -> None:
        if job.id in self._delivered:
            return  # "done" is shown; a late "sending…" must not replace it
        if isinstance(event, JobStarted):
            self._hosts[job.id] = event.host
        text = texts.status_line(job.id, event, self._hosts.get(job.id) or job.host)
        if text is None:
            return
        final = isinstance(event, FINAL)
        if not await self._show_group(job, text, ended=isinstance(event, JobFailed | JobCancelled)):
            await self._show(job, text, final=final)
        if isinstance(event, JobFailed | JobCancelled):
            self._hosts.pop(job.id, None)
            self._status.pop(job.id, None)

    def _message_of(self, job: Job) -> int | None:
        """The job's status message: known, or the acknowledgement if no other job took it."""
        message_id = self._status.get(job.id)
        if message_id is None:
            chat_id = int(job.reply_target["chat_id"])
            ack = job.reply_target.get("ack_message_id")
            if ack is not None and (chat_id, int(ack)) not in self._taken:
                message_id = int(ack)
                self.claim(chat_id, message_id, job.id)
        return message_id

    async def _show_group(self, job: Job, text: str, *, ended: bool) -> bool:
        """A batch's job: its line on the batch's card (the acknowledgement); False if the
        job is not part of a batch."""
        card = self.groups.show(job.batch, text, ended=ended)
        ack = job.reply_target.get("ack_message_id")
        if card is None or ack is None:
            return False
        whole, finished = card
        await self.editor.edit(int(job.reply_target["chat_id"]), int(ack), whole, final=finished)
        return True

    async def _show(self, job: Job, text: str, *, final: bool) -> None:
        chat_id = int(job.reply_target["chat_id"])
        message_id = self._message_of(job)
        if message_id is None:
            sent = await self.bot.send_message(
                chat_id,
                text,
                reply_parameters=reply_to(job.reply_target),
                message_thread_id=thread_of(job.reply_target),
            )
            self.claim(chat_id, sent.message_id, job.id)
            self.editor.remember(chat_id, sent.message_id, text)
            return
        await self.editor.edit(chat_id, message_id, text, final=final)

    async def deliver(self, job: Job, result: JobResult) -> None:
        """Send the video (fitted to the upload limit) with its summary and buttons."""
        target = job.reply_target
        chat_id = int(target["chat_id"])
        work = job.work_dir / "telegram"
        plan = await plan_delivery(
            result.video,
            work,
            max_bytes=self.telegram.max_upload_bytes(),
            public_url=self.config.delivery.public_url,
            archive_name=self._archive_name(result.video),
        )
        if plan.kind == "file" and plan.path is not None:
            await self._send_video(job, result, plan.path, plan.message, chat_id)
        else:
            await self._retrying(
                self.bot.send_message,
                chat_id,
                plan.message or "",
                reply_parameters=reply_to(target),
                message_thread_id=thread_of(target),
                reply_markup=result_buttons(job),
            )
        await result.sent()  # the engine records it: nothing is sent twice
        self._delivered.add(job.id)
        self._hosts.pop(job.id, None)
        done = texts.DELIVERY_DONE.format(job=job.id)
        if await self._show_group(job, done, ended=True):
            return
        message_id = self._message_of(job)
        self._status.pop(job.id, None)
        if message_id is not None:
            await self.editor.edit(
                chat_id, message_id, texts.DELIVERY_DONE.format(job=job.id), final=True
            )

    async def _send_video(
        self, job: Job, result: JobResult, path: Path, note: str | None, chat_id: int
    ) -> None:
        info = await probe(path)
        thumb = await thumbnail(path, job.work_dir / "telegram" / "thumb.jpg")
        room = CAPTION_LIMIT - (len(note) + 1 if note else 0)
        caption = summarize(
            result.request,
            limit=room,
            host=result.host,
            gpu_seconds=result.gpu_seconds,
            duration=info.duration,
            default_negative=default_negative(self.config, job.mode),
        )
        if note:
            caption = f"{caption}\n{note}"
        video_bytes = await asyncio.to_thread(path.read_bytes)
        thumb_bytes = await asyncio.to_thread(thumb.read_bytes)
        await self._retrying(
            self.bot.send_video,
            chat_id,
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

    async def _retrying(self, send: Any, *args: Any, **kwargs: Any) -> Any:
        """Call `send`, waiting out flood control a few times; other errors go to the engine."""
        for attempt in range(SEND_ATTEMPTS):
            try:
                return await send(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == SEND_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(retry_seconds(exc))
        return None

    def _archive_name(self, video: Path) -> str:
        try:
            return video.resolve().relative_to(self.config.storage.outputs.resolve()).as_posix()
        except ValueError:
            return video.name

    async def close(self) -> None:
        await self.editor.close()
