"""What the bot does with each command and button press.

The allow-list and the error policy are not here: every command reaches these handlers
through `WanTree` (`guard.py`), every button and form through `Access.guarded`, so a handler
just raises a `UserError` to refuse. The job actions themselves are `adapters.chat.actions`'.
Answers to the user are ephemeral: job commands defer ephemerally, so their follow-ups stay
ephemeral too (a public defer would make the first follow-up public).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from adapters.chat.actions import JobActions, job_id_of
from adapters.discord import extend, files, options, texts
from adapters.discord.buttons import cancel_buttons
from adapters.discord.frontend import Card, DiscordFrontEnd
from adapters.discord.guard import MESSAGE_LIMIT, Access, say
from bot.frontend import (
    Ask,
    Config,
    InputFiles,
    Job,
    Mode,
    Order,
    Sender,
    Ticket,
    prompt_or_default,
)

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

log = logging.getLogger(__name__)
# Inputs that are lists of files (one attachment here: a clip, an image or a zip).
LIST_INPUTS = frozenset({"pose", "face", "video"})
IMAGE_INPUTS = ("image", "end_image")
# Option name -> `FileSet` field, where they differ (Animate-2's video is its pose input).
FILE_FIELDS = {"end_image": "end", "video": "pose"}


class Handlers:
    def __init__(
        self, engine: EngineAPI, frontend: DiscordFrontEnd, config: Config, access: Access
    ) -> None:
        self.engine = engine
        self.frontend = frontend
        self.config = config
        self.access = access
        self.actions = JobActions(engine, config, texts.MARKUP, MESSAGE_LIMIT)

    def input_limit(self, interaction: discord.Interaction) -> int:
        return self.config.limits.max_input_bytes

    # -- job commands ------------------------------------------------------------------------

    async def job(
        self,
        interaction: discord.Interaction,
        mode: Mode,
        inputs: dict[str, discord.Attachment],
        prompt: str,
        values: dict[str, Any],
    ) -> None:
        """Check what can be checked at once, defer, download, post the card, submit."""
        overrides = options.overrides(mode, values)
        limit = self.input_limit(interaction)
        for attachment in inputs.values():
            files.check_size(attachment, limit)
        for name in IMAGE_INPUTS:
            if name in inputs:
                files.check_image(inputs[name])
        text = prompt_or_default(mode, prompt)
        user = self.access.user(interaction)
        sender = Sender(user.platform, user.user_id, str(interaction.channel_id), admin=user.admin)
        # Everything that needs no file (blocks, drain, caps, quota) before the download.
        async with self.engine.admission(sender, [overrides]) as ticket:
            await interaction.response.defer(ephemeral=True, thinking=True)
            ask = partial(Ask, mode, text, overrides=overrides)
            jobs, note = await self._submit(interaction, ticket, ask, inputs, limit)
        ids = ", ".join(texts.MARKUP.code(j.id) for j in jobs)
        queued = (texts.QUEUED if len(jobs) == 1 else texts.QUEUED_MANY).format(job=ids)
        await interaction.followup.send(f"{queued}\n{note}" if note else queued, ephemeral=True)

    async def _submit(
        self,
        interaction: discord.Interaction,
        ticket: Ticket,
        ask: Callable[[InputFiles], Ask],
        inputs: dict[str, discord.Attachment],
        limit: int,
    ) -> tuple[list[Job], str | None]:
        """Download, post the card, submit; the jobs (a `batch`: several) and what to say about
        where their card is."""
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="wanbot-dc-"))
        card: Card | None = None
        try:
            paths = {k: await files.download(a, folder, k, limit) for k, a in inputs.items()}
            card = await self.frontend.post_card_for(interaction)
            named = {
                FILE_FIELDS.get(k, k): [p] if k in LIST_INPUTS else p for k, p in paths.items()
            }
            order = Order(ask(InputFiles(**named)), ticket.sender, card.target)
            jobs = await self.engine.submit_all([order], ticket)
        except BaseException:
            if card is not None and card.message is not None:
                await _delete_quietly(card.message)
            raise
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
        for job in jobs:
            self.frontend.follow(job.id, interaction)
        return jobs, card.note

    # -- other commands ----------------------------------------------------------------------

    async def queue(self, interaction: discord.Interaction) -> None:
        text, status = await self.actions.queue(self.access.user(interaction))
        view = cancel_buttons([v.id for v in status.jobs])
        await say(interaction, text, **({"view": view} if view is not None else {}))

    async def cancel(self, interaction: discord.Interaction, job_id: str | None) -> None:
        user = self.access.user(interaction)
        await say(interaction, await self.actions.cancel(user, job_id_of(job_id)))

    async def user_defaults(self, interaction: discord.Interaction, values: str | None) -> None:
        user = self.access.user(interaction)
        change, reset = texts.SETTINGS_CHANGE, texts.SETTINGS_RESET
        await say(interaction, await self.actions.user_defaults(user, values or "", change, reset))

    async def quota(self, interaction: discord.Interaction) -> None:
        await say(interaction, await self.actions.quota(self.access.user(interaction)))

    async def help(self, interaction: discord.Interaction) -> None:
        names = [o.name for o in options.options_for(Mode.I2V)]
        await say(interaction, texts.help_text(names, self.config.limits.max_input_bytes))

    # -- buttons and forms -------------------------------------------------------------------

    async def button(self, interaction: discord.Interaction, action: str, job_id: str) -> None:
        await self.access.guarded(interaction, lambda: self._button(interaction, action, job_id))

    async def _button(self, interaction: discord.Interaction, action: str, job_id: str) -> None:
        """Every job button checks that the presser owns the job (or is an admin) first."""
        user = self.access.user(interaction)
        job = await self.actions.own_job(user, job_id)
        if action == "stop":
            # The card's Stop button: the card itself then says "cancelled".
            await say(interaction, await self.actions.cancel(user, job.id))
        elif action == "cancel":
            done = await self.actions.cancel(user, job.id)
            text, status = await self.actions.queue(user)
            view = cancel_buttons([v.id for v in status.jobs])
            await interaction.response.edit_message(content=f"{done}\n\n{text}", view=view)
        elif action == "reroll":
            await self.again(interaction, "reroll", job.id)
        elif action == "extend":
            await interaction.response.send_modal(extend.ExtendModal(self, job))
        else:
            for chunk in self.actions.details(job):
                await say(interaction, chunk)

    async def again(
        self, interaction: discord.Interaction, action: str, job_id: str, prompt: str = ""
    ) -> None:
        """Re-roll or extend `job_id` as a new job with a card of its own (the old card stays
        as it is); answered ephemerally."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        card = await self.frontend.post_card_for(interaction)
        user = self.access.user(interaction)
        try:
            new = await self.actions.again(
                action, user, job_id, prompt=prompt, reply_target=card.target
            )
        except BaseException:
            if card.message is not None:
                await _delete_quietly(card.message)
            raise
        self.frontend.follow(new.id, interaction)
        text = self.actions.again_text(action, new)
        await say(interaction, f"{text}\n{card.note}" if card.note else text)

    async def extend(self, interaction: discord.Interaction, job_id: str, prompt: str) -> None:
        """`/extend job [prompt]` and the Extend form's submit."""
        await self.again(interaction, "extend", job_id_of(job_id) or "", prompt.strip())


async def _delete_quietly(message: discord.Message) -> None:
    try:
        await message.delete()
    except discord.HTTPException:
        log.warning("could not delete card %s of a refused job", message.id)
