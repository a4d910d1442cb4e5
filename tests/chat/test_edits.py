"""The card editor both platforms share: one edit per interval, the newest text wins, never an
identical edit, flood control waited out through the platform's hook."""

from __future__ import annotations

import asyncio

import pytest

from adapters.chat.edits import CardEditor, Edit, Picture


async def test_edits_wait_for_the_interval_and_the_final_text_goes_at_once() -> None:
    sent: list[str] = []
    arrived = asyncio.Event()

    async def edit(key: tuple[int, int], edit: Edit) -> None:
        sent.append(edit.face.text)
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

    async def edit(key: tuple[int, int], edit: Edit) -> None:
        sent.append(edit.face.text)

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

    async def edit(key: str, edit: Edit) -> None:
        if refusals:
            raise refusals.pop()
        if edit.face.text == "boom":
            raise RuntimeError("not flood control")
        sent.append(edit.face.text)

    def flood_wait(exc: BaseException) -> float | None:
        return exc.seconds if isinstance(exc, Flood) else None

    editor = CardEditor(edit, interval=0.0, flood_wait=flood_wait)
    await editor.edit("card", "done", final=True)  # refused once, then sent
    assert sent == ["done"] and refusals == []
    with pytest.raises(RuntimeError):
        await editor.edit("other", "boom", final=True)
    await editor.close()


async def test_pictures_ride_with_the_text_and_a_refused_picture_never_holds_it_up() -> None:
    sent: list[tuple[str, bytes | None, bool]] = []
    refuse = [Flood(3600.0)]
    changed = asyncio.Event()

    async def edit(key: str, edit: Edit) -> None:
        if edit.picture is not None and refuse:
            raise refuse.pop()
        data = None if edit.picture is None else edit.picture.data
        sent.append((edit.face.text, data, edit.pictured))
        changed.set()

    def flood_wait(exc: BaseException) -> float | None:
        return exc.seconds if isinstance(exc, Flood) else None

    editor = CardEditor(edit, interval=0.0, flood_wait=flood_wait)
    editor.remember("card", "checking")
    editor.picture("card", Picture(b"early"))  # no Stop button yet: no job to show
    await editor.edit("card", "step 1", stop="job")
    editor.picture("card", Picture(b"one"))  # refused by flood control ...
    await changed.wait()
    assert sent == [("step 1", None, False)]
    changed.clear()
    editor.picture("card", Picture(b"two"))  # ... so pictures wait an hour; the text does not
    await editor.edit("card", "step 2", stop="job")
    await changed.wait()
    assert sent[-1] == ("step 2", None, False)
    await editor.edit("card", "done", final=True)  # the waiting picture is dropped
    await editor.close()
    assert [s[0] for s in sent] == ["step 1", "step 2", "done"] and refuse == []


async def test_a_picture_goes_with_its_card_and_another_error_stops_pictures() -> None:
    sent: list[Edit] = []
    changed = asyncio.Event()

    async def edit(key: str, edit: Edit) -> None:
        if edit.picture is not None and edit.picture.data == b"bad":
            raise RuntimeError("not a photo the platform takes")
        sent.append(edit)
        changed.set()

    editor = CardEditor(edit, interval=0.0)
    editor.remember("card", "generating", stop="job")
    editor.picture("card", Picture(b"one", "image/png"))
    await changed.wait()
    changed.clear()
    assert sent[-1].picture == Picture(b"one", "image/png") and sent[-1].face.stop == "job"
    assert sent[-1].picture.filename == "preview.png"
    editor.picture("card", Picture(b"bad"))
    await editor.edit("card", "generating 50%", stop="job")  # goes alone once "bad" is refused
    await changed.wait()
    editor.picture("card", Picture(b"three"))  # pictures are off for this card now
    await editor.edit("card", "done", final=True)
    await editor.close()
    assert [(e.face.text, e.picture, e.pictured) for e in sent[1:]] == [
        ("generating 50%", None, True),
        ("done", None, True),
    ]


async def test_the_final_face_lands_after_an_edit_already_on_its_way() -> None:
    """A platform applies a request it has received even if the client gives up waiting for
    the answer (after the request that follows it): the final face must not overtake an edit
    in flight."""
    applied: list[str] = []
    late: list[str] = []  # requests given up on, applied after the next one
    on_its_way = asyncio.Event()
    answer = asyncio.Event()

    async def edit(key: str, edit: Edit) -> None:
        if edit.face.text == "done":
            applied.extend(["done", *late])
            return
        on_its_way.set()
        try:
            await answer.wait()
        except asyncio.CancelledError:
            late.append(edit.face.text)
            raise
        applied.append(edit.face.text)

    editor = CardEditor(edit, interval=0.0)
    editor.remember("card", "queued", stop="job")
    await editor.edit("card", "generating", stop="job")
    await on_its_way.wait()
    # The answer comes once the final edit has begun (it runs up to its first wait first).
    asyncio.get_running_loop().call_soon(answer.set)
    await editor.edit("card", "done", final=True)
    await editor.close()
    assert applied == ["generating", "done"]
