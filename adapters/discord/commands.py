"""The slash commands: `/i2v`, `/talk`, `/animate`, `/animate2` (typed options from the
parameter table),
`/queue`, `/cancel`, `/help`, registered on a `CommandTree` and routed to `Handlers`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from adapters.discord import options, texts
from adapters.discord.handlers import Handlers
from bot.frontend import Config, Mode, bundled_object_info, mode_schedulers, scheduler_choices

if TYPE_CHECKING:
    from bot.frontend import EngineAPI

MAX_CHOICES = 25  # what Discord shows in an autocomplete list
AUTOCOMPLETE_WAIT = 2.0  # seconds; Discord waits 3 for the answer


class Schedulers:
    """Scheduler names for autocomplete: the live hosts' `WanVideoSampler` list, as the engine
    checks it. Discord drops an autocomplete answer after 3 seconds, so a host slow to send
    its schema is not waited for: the last list seen (at first the bundled schema's) is used."""

    def __init__(self, engine: EngineAPI, wait: float = AUTOCOMPLETE_WAIT) -> None:
        self._engine = engine
        self._wait = wait
        self._last: list[str] | None = None

    async def names(self) -> list[str]:
        try:
            async with asyncio.timeout(self._wait):
                self._last = await self._engine.schedulers()
        except TimeoutError:
            if self._last is None:
                self._last = scheduler_choices(await asyncio.to_thread(bundled_object_info))
        return self._last

    def completer(self, mode: Mode) -> Any:
        """The autocomplete callback of `mode`'s scheduler option."""

        async def complete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return await self.complete(interaction, current, mode)

        return complete

    async def complete(
        self, interaction: discord.Interaction, current: str, mode: Mode = Mode.I2V
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        names = mode_schedulers(mode, await self.names())
        found = [n for n in names if typed in n.lower()]
        found.sort(key=lambda n: not n.lower().startswith(typed))  # "uni": unipc before vibt_
        return [app_commands.Choice(name=n, value=n) for n in found[:MAX_CHOICES]]


def job_command(
    name: str,
    description: str,
    mode: Mode,
    context: Context,
    attachments: Mapping[str, str],
    *,
    prompt_required: bool = True,
    optional: Mapping[str, str] | None = None,
) -> app_commands.Command[Any, ..., None]:
    """A slash command for `mode`: the attachments (`optional` ones after the prompt) and the
    prompt, then one option per parameter of the table."""
    extra = dict(optional or {})

    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        given = {k: values.pop(k, None) for k in [*attachments, *extra]}
        inputs = {k: a for k, a in given.items() if a is not None}
        prompt = str(values.pop("prompt", "") or "")
        shots = str(values.pop("shots", "") or "").strip()
        if shots:  # a long video's next shots: the prompt is the first
            prompt = f"{prompt} | {shots}"
        await context.handlers.job(interaction, mode, inputs, prompt, values)

    required: list[tuple[str, Any]] = [(k, discord.Attachment) for k in attachments]
    later: list[tuple[str, Any]] = [(k, discord.Attachment) for k in extra]
    if prompt_required:
        required.append(("prompt", str))
    else:
        later.insert(0, ("prompt", str))
    described = {**attachments, **extra, "prompt": texts.PROMPT_OPTION}
    if mode is Mode.I2V:
        later.append(("shots", str))
        described["shots"] = texts.SHOTS_OPTION
    signature = options.job_signature(mode, context.config, required, later)
    cast(Any, callback).__signature__ = signature
    decorated = app_commands.describe(**options.descriptions(mode, described))(callback)
    choices = options.fixed_choices(mode)
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    scheduler = options.scheduler_option(mode)
    if scheduler is not None:
        complete = context.schedulers.completer(mode)
        decorated = app_commands.autocomplete(**{scheduler: complete})(decorated)
    return app_commands.Command(name=name, description=description, callback=decorated)


@dataclass(frozen=True)
class Context:
    """What every job command needs."""

    config: Config
    handlers: Handlers
    schedulers: Schedulers


def register(tree: app_commands.CommandTree[Any], handlers: Handlers, config: Config) -> None:
    """Add every slash command to `tree`."""
    context = Context(config, handlers, Schedulers(handlers.engine))
    end = {"end_image": texts.END_OPTION}
    tree.add_command(
        job_command(
            "i2v", texts.I2V, Mode.I2V, context, {"image": texts.IMAGE_OPTION}, optional=end
        )
    )
    talk = {"image": texts.PORTRAIT_OPTION, "audio": texts.AUDIO_OPTION}
    tree.add_command(
        job_command("talk", texts.TALK, Mode.INFINITETALK, context, talk, prompt_required=False)
    )
    animate = {"image": texts.PERSON_OPTION, "pose": texts.POSE_OPTION}
    later = {"face": texts.FACE_OPTION, "background": texts.BACKGROUND_OPTION}
    tree.add_command(
        job_command(
            "animate",
            texts.ANIMATE,
            Mode.ANIMATE,
            context,
            animate,
            prompt_required=False,
            optional=later,
        )
    )

    animate2 = {"image": texts.PERSON_OPTION, "video": texts.MOTION_OPTION}
    tree.add_command(
        job_command(
            "animate2", texts.ANIMATE2, Mode.ANIMATE2, context, animate2, prompt_required=False
        )
    )

    @tree.command(name="queue", description=texts.QUEUE)
    async def queue(interaction: discord.Interaction) -> None:
        await handlers.queue(interaction)

    @tree.command(name="cancel", description=texts.CANCEL)
    @app_commands.describe(job=texts.JOB_OPTION)
    async def cancel(interaction: discord.Interaction, job: str | None = None) -> None:
        await handlers.cancel(interaction, job)

    @tree.command(name="quota", description=texts.QUOTA_COMMAND)
    async def quota(interaction: discord.Interaction) -> None:
        await handlers.quota(interaction)

    @tree.command(name="settings", description=texts.SETTINGS_COMMAND)
    @app_commands.describe(values=texts.SETTINGS_OPTION)
    async def settings(interaction: discord.Interaction, values: str | None = None) -> None:
        await handlers.user_defaults(interaction, values)

    @tree.command(name="help", description=texts.HELP_COMMAND)
    async def help_(interaction: discord.Interaction) -> None:
        await handlers.help(interaction)
