"""The engine's view of Discord: a job card that follows the job, and the finished video.

Each job has one card, a normal channel message (nothing depends on the 15-minute interaction
token). The command handler posts it ("checking your files…") and puts its id in the job's
`reply_target`; events edit it through `CardEditor`. A job whose card another job already
took (a re-roll) gets a new card on its first event. The video is a reply to the card, fitted
to the upload limit the interaction reported, with persistent Reroll and Details buttons.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from pathlib import Path
from typing import Any

import discord

from adapters.discord import texts
from adapters.discord.buttons import job_buttons
from adapters.discord.config import DEFAULT_UPLOAD, DiscordConfig
from adapters.discord.edits import CardEditor
from bot.frontend import (
    Config,
    DeliveryPlan,
    Job,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobResult,
    JobStarted,
    plan_delivery,
    probe,
    summarize,
)

log = logging.getLogger(__name__)

PLATFORM = "discord"
MESSAGE_LIMIT = 2000
FINAL = (JobFinished, JobFailed, JobCancelled)
DELIVERED_MARK = "discord-delivered"
# Discord can over-report `attachment_size_limit`: on 413 the limit steps down this much.
STEP_DOWN = 0.75
SEND_ATTEMPTS = 3
TOO_LARGE = 40005


class DiscordFrontEnd:
    """Implements `bot.frontend.FrontEnd` for Discord."""

    platform = PLATFORM

    def __init__(
        self, client: discord.Client, config: Config, discord_config: DiscordConfig
    ) -> None:
        self.client = client
        self.config = config
        self.settings = discord_config
        self.editor = CardEditor(self._edit, discord_config.edit_interval)
        self._cards: dict[str, int] = {}  # job id -> its card
        self._taken: set[int] = set()  # cards some job already uses
        self._hosts: dict[str, str] = {}
        self._delivered: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def channel(self, target: dict[str, Any]) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(target["channel_id"]))

    def claim(self, card_id: int, job_id: str | None = None) -> None:
        """Mark a card as used (by `job_id`, or by a job that has finished)."""
        self._taken.add(card_id)
        if job_id is not None:
            self._cards[job_id] = card_id

    async def _edit(self, channel_id: int, message_id: int, text: str) -> None:
        message = self.client.get_partial_messageable(channel_id).get_partial_message(message_id)
        await message.edit(content=text)

    async def on_event(self, job: Job, event: JobEvent) -> None:
        if job.id in self._delivered:
            return  # "done" is shown; a late "sending…" must not replace it
        if isinstance(event, JobStarted):
            self._hosts[job.id] = event.host
        text = texts.card(job.id, event, self._hosts.get(job.id) or job.host)
        if text is None:
            return
        card = await self._card_of(job, text)
        if card is not None:
            channel_id = int(job.reply_target["channel_id"])
            await self.editor.edit(channel_id, card, text, final=isinstance(event, FINAL))
        if isinstance(event, JobFailed | JobCancelled):
            self._hosts.pop(job.id, None)
            self._cards.pop(job.id, None)

    async def _card_of(self, job: Job, text: str) -> int | None:
        """The job's card; a new one (showing `text`, so None is returned) if it has none."""
        async with self._locks.setdefault(job.id, asyncio.Lock()):
            card = self._cards.get(job.id)
            if card is not None:
                return card
            posted = job.reply_target.get("card_id")
            if posted is not None and int(posted) not in self._taken:
                self.claim(int(posted), job.id)
                return int(posted)
            sent = await self.channel(job.reply_target).send(text)
            self.claim(sent.id, job.id)
            self.editor.remember(sent.channel.id, sent.id, text)
            return None

    async def deliver(self, job: Job, result: JobResult) -> None:
        """Send the video as a reply to the card, fitted to the upload limit, with buttons."""
        limit = int(job.reply_target.get("upload_limit") or DEFAULT_UPLOAD)
        for attempt in range(SEND_ATTEMPTS):
            plan = await plan_delivery(
                result.video,
                job.work_dir / "discord" / str(limit),
                max_bytes=limit,
                public_url=self.config.delivery.public_url,
                archive_name=self._archive_name(result.video),
            )
            try:
                await self._send_result(job, result, plan)
                break
            except discord.HTTPException as exc:
                too_large = exc.status == 413 or exc.code == TOO_LARGE
                if not too_large or plan.path is None or attempt == SEND_ATTEMPTS - 1:
                    raise
            # The interaction over-reported the limit: go below what was refused.
            size = await asyncio.to_thread(os.path.getsize, plan.path)
            log.info("job %s: Discord refused %d bytes; fitting it smaller", job.id, size)
            limit = int(min(limit, size) * STEP_DOWN)
        await asyncio.to_thread(_mark_delivered, job.work_dir)
        self._delivered.add(job.id)
        self._hosts.pop(job.id, None)
        card = self._cards.pop(job.id, None) or job.reply_target.get("card_id")
        if card is not None:
            channel_id = int(job.reply_target["channel_id"])
            await self.editor.edit(
                channel_id, int(card), texts.DONE.format(job=f"`{job.id}`"), final=True
            )

    async def _send_result(self, job: Job, result: JobResult, plan: DeliveryPlan) -> None:
        head = texts.RESULT.format(job=f"`{job.id}`", user=f"<@{job.user_id}>")
        note = f"\n{plan.message}" if plan.message else ""
        files: list[discord.File] = []
        duration = None
        if plan.kind == "file" and plan.path is not None:
            duration = (await probe(plan.path)).duration
            data = await asyncio.to_thread(plan.path.read_bytes)
            files.append(discord.File(io.BytesIO(data), f"wanbot_{job.id}.mp4"))
        room = MESSAGE_LIMIT - len(head) - len(note) - 1
        summary = summarize(
            result.request,
            limit=room,
            host=result.host,
            gpu_seconds=result.gpu_seconds,
            duration=duration,
        )
        reference = self._reference(job)
        extra: dict[str, Any] = {} if reference is None else {"reference": reference}
        await self.channel(job.reply_target).send(
            f"{head}\n{summary}{note}",
            files=files,
            view=job_buttons(job.id),
            allowed_mentions=discord.AllowedMentions.none(),
            **extra,
        )

    def _reference(self, job: Job) -> discord.MessageReference | None:
        card = self._cards.get(job.id) or job.reply_target.get("card_id")
        if card is None:
            return None
        return discord.MessageReference(
            message_id=int(card),
            channel_id=int(job.reply_target["channel_id"]),
            fail_if_not_exists=False,
        )

    async def was_delivered(self, job: Job) -> bool:
        return await asyncio.to_thread(_is_delivered, job.work_dir)

    def _archive_name(self, video: Path) -> str:
        try:
            return video.resolve().relative_to(self.config.storage.outputs.resolve()).as_posix()
        except ValueError:
            return video.name

    async def close(self) -> None:
        await self.editor.close()


def _mark_delivered(folder: Path) -> None:
    if folder.is_dir():
        (folder / DELIVERED_MARK).touch()


def _is_delivered(folder: Path) -> bool:
    return (folder / DELIVERED_MARK).exists()
