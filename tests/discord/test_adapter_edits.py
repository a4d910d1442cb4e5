"""The job card's editor: one edit per interval, the newest text wins, never an identical edit."""

from __future__ import annotations

import asyncio

from adapters.discord.edits import CardEditor


async def test_edits_wait_for_the_interval_and_the_final_text_goes_at_once() -> None:
    sent: list[str] = []
    arrived = asyncio.Event()

    async def edit(channel_id: int, message_id: int, text: str) -> None:
        sent.append(text)
        arrived.set()

    editor = CardEditor(edit, interval=1000.0)
    await editor.edit(1, 2, "queued")  # the first edit of a card goes out at once
    await arrived.wait()
    await editor.edit(1, 2, "queued")  # identical: nothing to do
    await editor.edit(1, 2, "running 10%")  # within the interval: waits ...
    await editor.edit(1, 2, "running 20%")  # ... and is replaced by a newer text
    assert sent == ["queued"]
    await editor.edit(1, 2, "done", final=True)  # the final text skips the interval
    assert sent == ["queued", "done"]
    await editor.edit(1, 2, "done", final=True)  # a final text already shown is not sent
    await editor.close()
    assert sent == ["queued", "done"]


async def test_a_remembered_text_is_not_sent_again() -> None:
    sent: list[str] = []

    async def edit(channel_id: int, message_id: int, text: str) -> None:
        sent.append(text)

    editor = CardEditor(edit, interval=0.0)
    editor.remember(1, 2, "checking")
    await editor.edit(1, 2, "checking", final=True)
    await editor.close()
    assert sent == []
