"""Persistent job buttons (Reroll, Extend, Details, Cancel, the card's Stop): the custom id
holds action and job.

`JobButton` is registered on the client at start-up (`add_dynamic_items`), so a button keeps
working after a restart: discord.py rebuilds it from the custom id of the click and hands the
click to the client's `Handlers.button`, which checks ownership.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord
from discord import ui

PREFIX = "wanbot"
LABELS = {
    "reroll": "🎲 Reroll",
    "extend": "⏩ Extend",
    "details": "ℹ️ Details",
    "cancel": "✖ Cancel",
    "stop": "⏹ Stop",
}
STYLES = {
    "reroll": discord.ButtonStyle.primary,
    "extend": discord.ButtonStyle.primary,
    "details": discord.ButtonStyle.secondary,
    "cancel": discord.ButtonStyle.danger,
    "stop": discord.ButtonStyle.danger,
}
MAX_BUTTONS = 25  # five rows of five


class ButtonHandler(Protocol):
    async def button(self, interaction: discord.Interaction, action: str, job_id: str) -> None: ...


def custom_id(action: str, job_id: str) -> str:
    return f"{PREFIX}:{action}:{job_id}"


class JobButton(
    ui.DynamicItem[ui.Button[Any]],
    template=rf"{PREFIX}:(?P<action>reroll|extend|details|cancel|stop):(?P<job>[0-9a-f]{{1,32}})",
):
    def __init__(self, action: str, job_id: str, label: str | None = None) -> None:
        super().__init__(
            ui.Button(
                label=label or LABELS[action],
                style=STYLES[action],
                custom_id=custom_id(action, job_id),
            )
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> JobButton:
        return cls(match["action"], match["job"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client: Any = interaction.client
        handler: ButtonHandler = client.buttons
        await handler.button(interaction, self.action, self.job_id)


def job_buttons(job_id: str, extend: bool = False) -> ui.View:
    """Reroll, Extend (image to video) and Details under a delivered video."""
    view = ui.View(timeout=None)
    view.add_item(JobButton("reroll", job_id))
    if extend:
        view.add_item(JobButton("extend", job_id))
    view.add_item(JobButton("details", job_id))
    return view


def stop_button(job_id: str | None) -> ui.View:
    """The job card's Stop button while its job may be stopped (else no buttons: an edit with
    this empty view removes the button)."""
    view = ui.View(timeout=None)
    if job_id is not None:
        view.add_item(JobButton("stop", job_id))
    return view


def cancel_buttons(job_ids: list[str]) -> ui.View | None:
    """One Cancel button per job (as many as fit), for `/queue`."""
    if not job_ids:
        return None
    view = ui.View(timeout=None)
    for job_id in job_ids[:MAX_BUTTONS]:
        view.add_item(JobButton("cancel", job_id, label=f"✖ Cancel {job_id}"))
    return view
