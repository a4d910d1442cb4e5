"""The "Talking video" message menu: speech from the chosen message, a portrait, a prompt.

Run on any message with an audio attachment or a voice message (or a video, whose sound is
used). When that message, or the message it replies to, carries an image, the image is the
portrait and the modal asks only for the prompt; otherwise the modal also asks for the
portrait (a file upload). The submission goes through `Handlers.job` like `/talk`.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands, ui

from adapters.discord import files, texts
from adapters.discord.handlers import Handlers
from bot.frontend import DEFAULT_PROMPTS, Mode, UserError

MENU = "Talking video"
MODAL_TIMEOUT = 900.0  # seconds a modal waits for its submission
PROMPT_LIMIT = 1000


def speech_of(message: discord.Message) -> discord.Attachment | None:
    """The message's voice message, audio or video attachment, if any."""
    for attachment in message.attachments:
        kind = attachment.content_type or ""
        if attachment.is_voice_message() or kind.startswith(("audio/", "video/")):
            return attachment
    return None


def image_of(message: discord.Message) -> discord.Attachment | None:
    """The first image of the message, else of the message it replies to."""
    replied = message.reference.resolved if message.reference else None
    for candidate in (message, replied):
        if isinstance(candidate, discord.Message):
            for attachment in candidate.attachments:
                if (attachment.content_type or "").startswith("image/"):
                    return attachment
    return None


class TalkingVideo(ui.Modal, title=MENU):
    """Asks for the prompt, and for the portrait when the chosen messages have none."""

    def __init__(
        self, handlers: Handlers, speech: discord.Attachment, image: discord.Attachment | None
    ) -> None:
        super().__init__(timeout=MODAL_TIMEOUT)
        self.handlers = handlers
        self.speech = speech
        self.image = image
        self.upload = ui.FileUpload[Any](custom_id="portrait")
        self.prompt = ui.TextInput[Any](
            custom_id="prompt",
            required=False,
            max_length=PROMPT_LIMIT,
            placeholder=DEFAULT_PROMPTS[Mode.INFINITETALK],
        )
        if image is None:
            self.add_item(
                ui.Label(
                    text=texts.PORTRAIT_LABEL,
                    description=texts.PORTRAIT_HINT,
                    component=self.upload,
                )
            )
        self.add_item(ui.Label(text=texts.PROMPT_LABEL, component=self.prompt))

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.handlers.access.guarded(interaction, lambda: self._submit(interaction))

    async def _submit(self, interaction: discord.Interaction) -> None:
        image = self.image or (self.upload.values[0] if self.upload.values else None)
        if image is None:  # Discord requires the upload; this is only a guard
            raise UserError(texts.NEED_PORTRAIT)
        inputs = {"image": image, "audio": self.speech}
        await self.handlers.job(interaction, Mode.INFINITETALK, inputs, self.prompt.value, {})


def register(tree: app_commands.CommandTree[Any], handlers: Handlers) -> None:
    """Add the "Talking video" message menu to `tree`."""

    @tree.context_menu(name=MENU)
    async def talking_video(interaction: discord.Interaction, message: discord.Message) -> None:
        speech = speech_of(message)
        if speech is None:
            raise UserError(texts.NO_SPEECH)
        files.check_size(speech, handlers.input_limit(interaction))
        image = image_of(message)
        await interaction.response.send_modal(TalkingVideo(handlers, speech, image))
