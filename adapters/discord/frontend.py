"""The engine's view of Discord: a job card that follows the job, and the finished video.

Each job has one card, a normal channel message (nothing depends on the 15-minute interaction
token). The command handler posts it ("checking your files…") and puts its id in the job's
`reply_target`; events edit it through `CardEditor`. While the job may be stopped the card has
a Stop button, and its newest preview as the embed's image (the attached `preview.jpg`, which
each new preview replaces). The video is a reply to the card, fitted to the upload limit the
interaction reported, with persistent Reroll and Details buttons.

Where the bot may not post (a missing permission), the card goes to the user's DMs; with DMs
closed too, the job has no card. A video the channel refuses goes to the interaction's
follow-up while its token is valid (15 minutes), else to a DM, saying why.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
from dataclasses import dataclass
from typing import Any

import discord

from adapters.chat import texts as shared
from adapters.chat.cards import JobCards
from adapters.chat.delivery import fit_video, scratch
from adapters.chat.edits import CardEditor, Edit, Face
from adapters.discord import texts
from adapters.discord.buttons import job_buttons, stop_button
from adapters.discord.config import DEFAULT_UPLOAD, DiscordConfig
from adapters.discord.guard import MESSAGE_LIMIT, PLATFORM
from bot.frontend import Config, DeliveryPlan, Job, JobResult, Mode, probe

log = logging.getLogger(__name__)

# Discord can over-report `attachment_size_limit`: on 413 the limit steps down this much.
STEP_DOWN = 0.75
SEND_ATTEMPTS = 3
TOO_LARGE = 40005
Key = tuple[int, int]  # channel id, message id


class DiscordFrontEnd(JobCards[Key]):
    """Implements `bot.frontend.FrontEnd` for Discord."""

    platform = PLATFORM

    def __init__(
        self, client: discord.Client, config: Config, discord_config: DiscordConfig
    ) -> None:
        # discord.py waits out a 429 itself (and holds this card's next edit meanwhile).
        super().__init__(
            CardEditor[Key](self._edit, discord_config.edit_interval), texts.MARKUP, MESSAGE_LIMIT
        )
        self.client = client
        self.config = config
        self.settings = discord_config
        self._cards: dict[str, int] = {}  # job id -> its card
        self._interactions: dict[str, discord.Interaction] = {}  # job id -> its command

    def channel(self, target: dict[str, Any]) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(target["channel_id"]))

    async def post_card_for(self, interaction: discord.Interaction) -> Card:
        """A new job card where `interaction` was used; in the user's DMs where the bot may
        not post; none where DMs are closed too (the job then answers through `interaction`)."""
        target: dict[str, Any] = {
            "channel_id": str(interaction.channel_id),
            "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
            "upload_limit": interaction.filesize_limit or DEFAULT_UPLOAD,
        }
        channel = self.client.get_partial_messageable(interaction.channel_id or 0)
        note = None
        try:
            message = await channel.send(shared.CHECKING)
        except discord.Forbidden:
            log.info("may not post in channel %s; the card goes to a DM", interaction.channel_id)
            try:
                message = await (await self._dm(interaction.user.id)).send(shared.CHECKING)
            except discord.Forbidden:
                return Card({**target, "card_id": None}, None, texts.NO_CARD)
            target["upload_limit"] = DEFAULT_UPLOAD  # a DM has no server boosts
            note = texts.MOVED_TO_DM
        self.editor.remember((message.channel.id, message.id), shared.CHECKING)
        target.update(channel_id=str(message.channel.id), card_id=str(message.id))
        return Card(target, message, note)

    def follow(self, job_id: str, interaction: discord.Interaction) -> None:
        """Remember the command that made `job_id`: its follow-up is a way to reach the user
        while its token is valid. Expired ones are forgotten here."""
        for known, old in list(self._interactions.items()):
            if old.is_expired():
                del self._interactions[known]
        self._interactions[job_id] = interaction

    async def _dm(self, user_id: int) -> discord.DMChannel:
        return await self.client.create_dm(discord.Object(id=user_id))

    async def _edit(self, key: Key, edit: Edit) -> None:
        """One card edit: its text and Stop button, and a new preview when there is one (the
        attachment replaces the last; an edit without one keeps it)."""
        message = self.client.get_partial_messageable(key[0]).get_partial_message(key[1])
        extra: dict[str, Any] = {}
        if edit.picture is not None:
            name = edit.picture.filename
            extra["attachments"] = [discord.File(io.BytesIO(edit.picture.data), name)]
            extra["embed"] = discord.Embed().set_image(url=f"attachment://{name}")
        await message.edit(content=edit.face.text, view=stop_button(edit.face.stop), **extra)

    # -- JobCards ----------------------------------------------------------------------------

    def existing_card(self, job: Job) -> Key | None:
        card = self._cards.get(job.id) or job.reply_target.get("card_id")
        if card is None:
            return None
        self._cards[job.id] = int(card)
        return int(job.reply_target["channel_id"]), int(card)

    def group_card(self, job: Job) -> Key | None:
        card = job.reply_target.get("card_id")
        return None if card is None else (int(job.reply_target["channel_id"]), int(card))

    async def post_card(self, job: Job, face: Face) -> Key | None:
        """A card for a job made without one (a re-roll from an earlier run), unless it was
        made where the bot may post neither in the channel nor in a DM."""
        if "card_id" in job.reply_target:
            return None
        try:
            sent = await self.channel(job.reply_target).send(face.text, view=stop_button(face.stop))
        except discord.Forbidden:
            log.warning("job %s: may not post its card in its channel", job.id)
            return None
        self._cards[job.id] = sent.id
        return sent.channel.id, sent.id

    def forget(self, job: Job) -> None:
        self._cards.pop(job.id, None)
        self._interactions.pop(job.id, None)

    # -- deliveries --------------------------------------------------------------------------

    async def deliver(self, job: Job, result: JobResult) -> None:
        """Send the video as a reply to the card, fitted to the upload limit, with buttons."""
        limit = int(job.reply_target.get("upload_limit") or DEFAULT_UPLOAD)
        async with scratch("wanbot-dc-") as folder:
            for attempt in range(SEND_ATTEMPTS):
                plan = await fit_video(self.config, result, folder / str(limit), limit)
                try:
                    await self._send_anywhere(job, result, plan)
                    break
                except discord.HTTPException as exc:
                    too_large = exc.status == 413 or exc.code == TOO_LARGE
                    if not too_large or plan.path is None or attempt == SEND_ATTEMPTS - 1:
                        raise
                # The interaction over-reported the limit: go below what was refused.
                size = await asyncio.to_thread(os.path.getsize, plan.path)
                log.info("job %s: Discord refused %d bytes; fitting it smaller", job.id, size)
                limit = int(min(limit, size) * STEP_DOWN)
        await result.sent()  # the engine records it: nothing is sent twice
        await self.delivered(job)

    async def _send_anywhere(self, job: Job, result: JobResult, plan: DeliveryPlan) -> None:
        """To the card's channel; where that is refused, to the interaction's follow-up while
        its token is valid, else to a DM, saying why."""
        if job.reply_target.get("card_id") is not None:
            try:
                channel = self.channel(job.reply_target)
                await self._send_result(job, result, plan, channel, reference=self._reference(job))
                return
            except discord.Forbidden:
                log.warning("job %s: may not post the video in its channel", job.id)
        note = texts.NOT_IN_CHANNEL.format(channel=f"<#{job.reply_target['channel_id']}>")
        interaction = self._interactions.get(job.id)
        if interaction is not None and not interaction.is_expired():
            try:
                await self._send_result(job, result, plan, interaction.followup, note=note)
                return
            except discord.HTTPException as exc:
                if exc.status == 413 or exc.code == TOO_LARGE:
                    raise
                log.info("job %s: the follow-up was refused (%s); trying a DM", job.id, exc)
        await self._send_result(job, result, plan, await self._dm(int(job.user_id)), note=note)

    async def _send_result(
        self,
        job: Job,
        result: JobResult,
        plan: DeliveryPlan,
        to: discord.abc.Messageable | discord.Webhook,
        *,
        note: str = "",
        reference: discord.MessageReference | None = None,
    ) -> None:
        tail = "".join(f"\n{line}" for line in (note, plan.message) if line)
        files: list[discord.File] = []
        duration = None
        if plan.kind == "file" and plan.path is not None:
            duration = (await probe(plan.path)).duration
            data = await asyncio.to_thread(plan.path.read_bytes)
            files.append(discord.File(io.BytesIO(data), f"wanbot_{job.id}.mp4"))
        caption = shared.caption(
            result.request,
            self.markup,
            limit=MESSAGE_LIMIT - len(tail),
            duration=duration,
            gpu_seconds=result.gpu_seconds,
            by=f"<@{job.user_id}>",
        )
        extra: dict[str, Any] = {}
        if isinstance(to, discord.Webhook):
            extra["ephemeral"] = True  # the command's answers are the user's alone
        elif reference is not None:
            extra["reference"] = reference
        await to.send(
            caption + tail,
            files=files,
            view=job_buttons(job.id, extend=job.mode is Mode.I2V),
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

    async def close(self) -> None:
        await self.editor.close()


@dataclass(frozen=True)
class Card:
    """Where a new job answers: its `reply_target`, the card (None when the bot could post
    neither in the channel nor in a DM) and what to tell the user about where it went."""

    target: dict[str, Any]
    message: discord.Message | None
    note: str | None
