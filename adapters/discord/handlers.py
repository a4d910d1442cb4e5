"""What the bot does with each command and button press.

Every entry point runs inside `guarded`: a `UserError` is answered with its message, anything
else is logged with its traceback and answered with a short reference, never the exception
text. Answers to the user are ephemeral: job commands defer ephemerally, so their follow-ups
stay ephemeral too (a public defer would make the first follow-up public).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord import extend, files, options, texts
from adapters.discord.buttons import cancel_buttons
from adapters.discord.config import DiscordConfig
from adapters.discord.frontend import MESSAGE_LIMIT, PLATFORM, Card, DiscordFrontEnd
from bot.frontend import (
    Ask,
    Config,
    InputFiles,
    Job,
    Mode,
    Order,
    Sender,
    Ticket,
    UserError,
    default_negative,
    describe_user_defaults,
    details_text,
    echo,
    fit,
    pieces,
    prompt_or_default,
    quota_text,
    user_key,
)

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

log = logging.getLogger(__name__)
# Inputs that are lists of files (one attachment here: a clip, an image or a zip).
LIST_INPUTS = frozenset({"pose", "face"})
IMAGE_INPUTS = ("image", "end_image")
FILE_FIELDS = {"end_image": "end"}  # option name -> `FileSet` field, where they differ


def incident_ref() -> str:
    return secrets.token_hex(3)


async def say(interaction: discord.Interaction, text: str, **kwargs: Any) -> None:
    """Answer ephemerally: the response if not yet given, else a follow-up; cut to Discord's
    limit (a refused answer would leave the user with nothing)."""
    text = fit(text, MESSAGE_LIMIT)
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(text, ephemeral=True, **kwargs)


async def guarded(interaction: discord.Interaction, work: Callable[[], Awaitable[None]]) -> None:
    try:
        await work()
    except UserError as exc:
        await say(interaction, str(exc))
    except Exception:
        ref = incident_ref()
        log.exception("interaction %s failed (reference %s)", interaction.id, ref)
        await say(interaction, texts.INTERNAL.format(ref=ref))


class Handlers:
    def __init__(
        self,
        engine: EngineAPI,
        frontend: DiscordFrontEnd,
        config: Config,
        discord_config: DiscordConfig,
    ) -> None:
        self.engine = engine
        self.frontend = frontend
        self.config = config
        self.settings = discord_config

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """In `queue.admins` (as `discord:<id>`) or a member of one of `admin_roles`."""
        user = interaction.user
        if user_key(PLATFORM, str(user.id)) in self.config.queue.admins:
            return True
        roles = {r.id for r in user.roles} if isinstance(user, discord.Member) else set()
        return bool(roles & set(self.settings.admin_roles))

    def allowed(self, interaction: discord.Interaction) -> bool:
        """Admins always. Elsewhere than `allowed_guilds` (when set; a DM is in no guild),
        nobody. Then everyone when no other list is set; else a listed user, a member of a
        listed role, or anyone in a listed channel."""
        s = self.settings
        user = interaction.user
        if self.is_admin(interaction):
            return True
        if s.allowed_guilds and interaction.guild_id not in s.allowed_guilds:
            return False
        if not (s.allowed_users or s.allowed_roles or s.allowed_channels):
            return True
        roles = {r.id for r in user.roles} if isinstance(user, discord.Member) else set()
        return (
            user.id in s.allowed_users
            or bool(roles & set(s.allowed_roles))
            or interaction.channel_id in s.allowed_channels
        )

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

        async def work() -> None:
            if not self.allowed(interaction):
                raise UserError(texts.NOT_ALLOWED)
            overrides = options.overrides(mode, values)
            limit = self.input_limit(interaction)
            for attachment in inputs.values():
                files.check_size(attachment, limit)
            for name in IMAGE_INPUTS:
                if name in inputs:
                    files.check_image(inputs[name])
            text = prompt_or_default(mode, prompt)
            # Everything that needs no file (blocks, drain, caps, quota) before the download.
            async with self.engine.admission(self._sender(interaction), [overrides]) as ticket:
                await interaction.response.defer(ephemeral=True, thinking=True)
                ask = partial(Ask, mode, text, overrides=overrides)
                jobs, note = await self._submit(interaction, ticket, ask, inputs, limit)
            ids = ", ".join(f"`{j.id}`" for j in jobs)
            queued = (texts.QUEUED if len(jobs) == 1 else texts.QUEUED_MANY).format(job=ids)
            await interaction.followup.send(f"{queued}\n{note}" if note else queued, ephemeral=True)

        await guarded(interaction, work)

    def _sender(self, interaction: discord.Interaction) -> Sender:
        """Who asks, with the one admin decision (ids or roles) the engine honours."""
        user_id, channel = str(interaction.user.id), str(interaction.channel_id)
        return Sender(PLATFORM, user_id, channel, admin=self.is_admin(interaction))

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
            card = await self.frontend.post_card(interaction)
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
        async def work() -> None:
            if not self.allowed(interaction):
                raise UserError(texts.NOT_ALLOWED)
            text, view = await self._queue_view(interaction.user.id)
            await say(interaction, text, **({"view": view} if view is not None else {}))

        await guarded(interaction, work)

    async def _queue_view(self, user_id: int) -> tuple[str, discord.ui.View | None]:
        status = await self.engine.status(PLATFORM, str(user_id))
        return texts.queue_text(status), cancel_buttons([v.id for v in status.jobs])

    async def cancel(self, interaction: discord.Interaction, job_id: str | None) -> None:
        async def work() -> None:
            if not self.allowed(interaction):
                raise UserError(texts.NOT_ALLOWED)
            wanted = job_id.strip().strip("`") if job_id else None
            job = await self.engine.cancel(
                PLATFORM,
                str(interaction.user.id),
                wanted or None,
                as_admin=self.is_admin(interaction),
            )
            await say(interaction, texts.CANCELLED.format(job=f"`{job.id}`"))

        await guarded(interaction, work)

    async def user_settings(self, interaction: discord.Interaction, values: str | None) -> None:
        async def work() -> None:
            if not self.allowed(interaction):
                raise UserError(texts.NOT_ALLOWED)
            user = user_key(PLATFORM, str(interaction.user.id))
            mine = self.engine.user_defaults
            text = (values or "").strip()
            changed = await (mine.change(user, text) if text else mine.get(user))
            await say(interaction, texts.settings_text(describe_user_defaults(changed)))

        await guarded(interaction, work)

    async def quota(self, interaction: discord.Interaction) -> None:
        async def work() -> None:
            exempt = self.is_admin(interaction)
            view = await self.engine.quotas.view(PLATFORM, str(interaction.user.id), exempt=exempt)
            await say(interaction, quota_text(view))

        await guarded(interaction, work)

    async def help(self, interaction: discord.Interaction) -> None:
        names = [o.name for o in options.options_for(Mode.I2V)]
        await guarded(
            interaction,
            lambda: say(interaction, texts.help_text(names, self.config.limits.max_input_bytes)),
        )

    # -- buttons -----------------------------------------------------------------------------

    async def button(self, interaction: discord.Interaction, action: str, job_id: str) -> None:
        await guarded(interaction, lambda: self._button(interaction, action, job_id))

    async def _button(self, interaction: discord.Interaction, action: str, job_id: str) -> None:
        """Every job button checks that the presser owns the job (or is an admin) first."""
        if not self.allowed(interaction):
            raise UserError(texts.NOT_ALLOWED)
        user_id = interaction.user.id
        admin = self.is_admin(interaction)
        job = await self._own_job(user_id, job_id, admin)
        if action == "cancel":
            await self.engine.cancel(PLATFORM, str(user_id), job.id, as_admin=admin)
            text, view = await self._queue_view(user_id)
            done = texts.CANCELLED.format(job=f"`{job.id}`")
            await interaction.response.edit_message(content=f"{done}\n\n{text}", view=view)
        elif action == "reroll":
            await self.again(interaction, "reroll", job.id)
        elif action == "extend":
            await interaction.response.send_modal(extend.ExtendModal(self, job))
        else:
            await self._details(interaction, job)

    async def again(
        self, interaction: discord.Interaction, action: str, job_id: str, prompt: str = ""
    ) -> None:
        """Re-roll or extend `job_id` as a new job with a card of its own (the old card stays
        as it is); answered ephemerally."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        card = await self.frontend.post_card(interaction)
        user_id = str(interaction.user.id)
        admin = self.is_admin(interaction)
        try:
            if action == "extend":
                new = await self.engine.extend(
                    job_id, platform=PLATFORM, user_id=user_id, prompt=prompt or None,
                    reply_target=card.target, as_admin=admin,
                )  # fmt: skip
            else:
                new = await self.engine.reroll(
                    job_id, platform=PLATFORM, user_id=user_id, reply_target=card.target,
                    as_admin=admin,
                )  # fmt: skip
        except BaseException:
            if card.message is not None:
                await _delete_quietly(card.message)
            raise
        self.frontend.follow(new.id, interaction)
        text = texts.AGAIN[action].format(job=f"`{new.id}`")
        await say(interaction, f"{text}\n{card.note}" if card.note else text)

    async def extend(self, interaction: discord.Interaction, job_id: str, prompt: str) -> None:
        """`/extend job [prompt]` and the Extend form's submit."""

        async def work() -> None:
            if not self.allowed(interaction):
                raise UserError(texts.NOT_ALLOWED)
            await self.again(interaction, "extend", job_id.strip().strip("`"), prompt.strip())

        await guarded(interaction, work)

    async def _own_job(self, user_id: int, job_id: str, admin: bool) -> Job:
        """The job, if `user_id` made it or is an admin; else a `UserError` and nothing done."""
        job = await self.engine.get(job_id)
        if job is None:
            raise UserError(texts.UNKNOWN_JOB.format(job=echo(job_id)))
        if job.user != user_key(PLATFORM, str(user_id)) and not admin:
            raise UserError(texts.NOT_YOUR_JOB)
        return job

    async def _details(self, interaction: discord.Interaction, job: Job) -> None:
        text = details_text(
            job.id,
            job.request,
            host=job.host,
            gpu_seconds=job.gpu_seconds,
            default_negative=default_negative(self.config, job.mode),
            escape=discord.utils.escape_markdown,
        )
        for chunk in pieces(text, MESSAGE_LIMIT):
            await say(interaction, chunk)


async def _delete_quietly(message: discord.Message) -> None:
    try:
        await message.delete()
    except discord.HTTPException:
        log.warning("could not delete card %s of a refused job", message.id)
