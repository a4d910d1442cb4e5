"""Extending a finished video: the Extend button's form (the prompt, editable) and `/extend`.

The form opens with the video's own prompt; on submit the handlers post a new card and ask
the engine to continue the clip from its last frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands, ui

from adapters.discord import texts
from bot.frontend import Job

if TYPE_CHECKING:
    from adapters.discord.handlers import Handlers

MODAL_TIMEOUT = 900.0  # seconds the form waits for its submission
PROMPT_LIMIT = 1000


class ExtendModal(ui.Modal, title=texts.EXTEND_TITLE):
    def __init__(self, handlers: Handlers, job: Job) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.handlers = handlers
        self.job_id = job.id
        self.prompt = ui.TextInput[Any](
            custom_id="prompt",
            required=False,
            max_length=PROMPT_LIMIT,
            default=job.request.prompt[:PROMPT_LIMIT],
        )
        self.add_item(ui.Label(text=texts.EXTEND_LABEL, component=self.prompt))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        prompt = self.prompt.value
        await self.handlers.access.guarded(
            interaction, lambda: self.handlers.extend(interaction, self.job_id, prompt)
        )


def register(tree: app_commands.CommandTree[Any], handlers: Handlers) -> None:
    @tree.command(name="extend", description=texts.EXTEND)
    @app_commands.describe(job=texts.EXTEND_JOB_OPTION, prompt=texts.EXTEND_PROMPT_OPTION)
    async def extend(interaction: discord.Interaction, job: str, prompt: str | None = None) -> None:
        await handlers.extend(interaction, job, prompt or "")
