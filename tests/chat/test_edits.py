"""The card editor both platforms share: one edit per interval, the newest text wins, never an
identical edit, flood control waited out through the platform's hook."""

from __future__ import annotations

import asyncio

import pytest

from adapters.chat.edits import CardEditor


async def test_edits_wait_for_the_interval_and_the_final_text_goes_at_once() -> None:
    sent: list[str] = []
    arrived = asyncio.Event()

    async def edit(key: tuple[int, int], text: str) -> None:
        sent.append(text)
        arrived.set()

    editor = CardEditor(edit, interval=1000.0)
    await editor.edit((1, 2), "queued")  # the first edit of a card goes out at once
    await arrived.wait()
    await editor.edit((1, 2), "queued")  # identical: nothing to do
    await editor.edit((1, 2), "running 10%")  # within the interval: waits ...
    await editor.edit((1, 2), "running 20%")  # ... and is replaced by a newer text
    assert sent == ["queued"]
    await editor.edit((1, 2), "done", final=True)  # the final text skips the interval
    assert sent == ["queued", "done"]
    await editor.edit((1, 2), "done", final=True)  # a final text already shown is not sent
    await editor.close()
    assert sent == ["queued", "done"]


async def test_a_remembered_text_is_not_sent_again() -> None:
    sent: list[str] = []

    async def edit(key: tuple[int, int], text: str) -> None:
        sent.append(text)

    editor = CardEditor(edit, interval=0.0)
    editor.remember((1, 2), "checking")
    await editor.edit((1, 2), "checking", final=True)
    await editor.close()
    assert sent == []


class Flood(Exception):
    """A platform's "too many requests", asking to wait `seconds`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


async def test_flood_control_is_waited_out_and_other_errors_are_raised() -> None:
    sent: list[str] = []
    refusals = [Flood(0.01)]

    async def edit(key: str, text: str) -> None:
        if refusals:
            raise refusals.pop()
        if text == "boom":
            raise RuntimeError("not flood control")
        sent.append(text)

    def flood_wait(exc: BaseException) -> float | None:
        return exc.seconds if isinstance(exc, Flood) else None

    editor = CardEditor(edit, interval=0.0, flood_wait=flood_wait)
    await editor.edit("card", "done", final=True)  # refused once, then sent
    assert sent == ["done"] and refusals == []
    with pytest.raises(RuntimeError):
        await editor.edit("other", "boom", final=True)
    await editor.close()
