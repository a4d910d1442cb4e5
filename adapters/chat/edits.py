"""Editing one card per job without tripping a platform's flood control.

A card shows a `Face` (its text, and the job its Stop button stops) and, once the job sends
previews, a `Picture`. At most one edit per `interval` seconds per card; a newer face or
picture replaces one still waiting; an edit that would change nothing is skipped. When the
platform says "too many requests" (the `flood_wait` hook turns its error into the seconds to
wait), the card waits that long before its next edit.

Pictures are best effort and never hold up the text: a picture goes out with the card's next
edit, but a picture the platform refuses (flood control on the upload, or any other error) is
dropped from that edit and the text is sent on its own at once; pictures then wait out the
flood control on their own clock (or stop for that card, after another error).

Final faces (done, failed, cancelled) skip the interval and drop what is waiting, but let an
edit already on its way finish first (a cancelled request may still reach the platform, and
land after the final one) and wait out flood control, a few times at most; a card's last face
is kept, so the same final face is not sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
FINAL_ATTEMPTS = 4
REMEMBERED = 1024  # cards whose last face is kept


def no_flood_wait(exc: BaseException) -> float | None:
    """A platform whose library waits out flood control itself (discord.py) has no hook."""
    return None


@dataclass(frozen=True)
class Face:
    """What a card says: its text, and the job its Stop button stops (None: no button)."""

    text: str
    stop: str | None = None


@dataclass(frozen=True)
class Picture:
    """A preview image for a card."""

    data: bytes
    mime: str = "image/jpeg"

    @property
    def filename(self) -> str:
        return "preview.png" if self.mime == "image/png" else "preview.jpg"


@dataclass(frozen=True)
class Edit:
    """One edit as the platform sends it: the face, a new picture to show (None: keep the
    card's, if any) and whether the card already shows a picture (Telegram then edits the
    photo's caption, not a text)."""

    face: Face
    picture: Picture | None = None
    pictured: bool = False


@dataclass
class _Card:
    shown: Face | None = None
    sent_at: float = float("-inf")
    blocked_until: float = float("-inf")
    waiting: Face | None = None
    picture: Picture | None = None  # the newest picture not shown yet
    pictured: bool = False
    pictures_until: float = float("-inf")  # pictures' own flood control
    pictures_off: bool = False  # the platform refused a picture for a reason of its own
    timer: asyncio.Task[None] | None = None
    wake: asyncio.Event | None = None
    closed: bool = False  # a final face was asked for: nothing waiting goes out after it


class CardEditor(Generic[K]):
    """Throttled edits of cards named by a platform's key (e.g. chat id and message id).

    `send(key, edit)` edits the card on the platform; `flood_wait(exc)` is the platform's
    flood-wait hook: the seconds to wait for an error that asks for it, else None.
    """

    def __init__(
        self,
        send: Callable[[K, Edit], Awaitable[None]],
        interval: float,
        *,
        flood_wait: Callable[[BaseException], float | None] = no_flood_wait,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._send_edit = send
        self.interval = interval
        self._flood_wait = flood_wait
        self._clock = clock
        self._cards: dict[K, _Card] = {}
        self._locks: dict[K, asyncio.Lock] = {}

    def remember(self, key: K, text: str, *, stop: str | None = None) -> None:
        """Record the face a card was sent with (so an identical edit is skipped)."""
        card = self._cards.setdefault(key, _Card())
        card.shown, card.sent_at = Face(text, stop), self._clock()

    async def edit(
        self, key: K, text: str, *, final: bool = False, stop: str | None = None
    ) -> None:
        """Show `text` (with a Stop button for job `stop`) on the card: at once when `final`,
        else within the interval."""
        face = Face(text, stop)
        card = self._cards.setdefault(key, _Card())
        if final:
            # What waits is dropped; an edit already on its way is let finish (a cancelled
            # request may still reach the platform, after this one), then this one goes.
            card.closed, card.waiting, card.picture = True, None, None
            if card.wake is not None:
                card.wake.set()
            await self._send_final(key, card, face)
            self._forget_old(key)
            return
        card.closed = False
        if face == card.shown and card.waiting is None:
            return
        card.waiting = face
        self._schedule(key, card)

    def picture(self, key: K, picture: Picture) -> None:
        """Show `picture` on the card with its next edit (the newest picture wins)."""
        card = self._cards.get(key)
        latest = None if card is None else card.waiting or card.shown
        if card is None or card.pictures_off or latest is None or latest.stop is None:
            return  # pictures only on a card whose job can still be stopped
        card.picture = picture
        self._schedule(key, card)

    def _schedule(self, key: K, card: _Card) -> None:
        if card.timer is None:
            card.wake = asyncio.Event()
            card.timer = asyncio.create_task(self._flush_later(key, card))
        elif card.wake is not None:
            card.wake.set()  # what it waits for may have changed

    async def _flush_later(self, key: K, card: _Card) -> None:
        try:
            while not card.closed and (card.waiting is not None or card.picture is not None):
                delay = self._delay(card)
                if delay > 0:
                    await self._nap(card, delay)
                    continue
                await self._flush(key, card)
        finally:
            card.timer = None

    def _delay(self, card: _Card) -> float:
        """Seconds until the card may be edited with what is waiting."""
        now = self._clock()
        start = max(card.sent_at + self.interval, card.blocked_until)
        text_waits = card.waiting is not None and card.waiting != card.shown
        if not text_waits:
            if card.pictures_off or card.shown is None:
                card.picture = None
            if card.picture is None:
                card.waiting = None
                return 0.0
            start = max(start, card.pictures_until)
        return start - now

    async def _nap(self, card: _Card, delay: float) -> None:
        """Sleep `delay` seconds, or less when a new face or picture arrives."""
        assert card.wake is not None
        card.wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await card.wake.wait()

    async def _flush(self, key: K, card: _Card) -> None:
        """Send what waits: the text, with the picture unless pictures must wait."""
        face = card.waiting or card.shown
        if face is None:
            card.picture = None
            return
        picture = None
        if card.picture is not None and self._clock() >= card.pictures_until:
            picture, card.picture = card.picture, None
        if picture is None and face == card.shown:
            card.waiting = None
            return
        card.waiting = None
        try:
            await self._send(key, card, Edit(face, picture, card.pictured))
        except Exception as exc:
            wait = self._flood_wait(exc)
            if card.closed:
                return  # the final face is on its way: this one is not sent again
            if picture is not None:
                self._picture_refused(key, card, wait)
            elif wait is None:
                log.exception("editing card %s failed", key)
                return
            else:
                card.blocked_until = self._clock() + wait
            if card.waiting is None and face != card.shown:
                card.waiting = face  # the text goes again (on its own after a picture)

    def _picture_refused(self, key: K, card: _Card, wait: float | None) -> None:
        if wait is None:
            log.warning("card %s: the platform refused a preview; previews stop", key)
            card.pictures_off, card.picture = True, None
        else:
            card.pictures_until = self._clock() + wait

    async def _send_final(self, key: K, card: _Card, face: Face) -> None:
        for _ in range(FINAL_ATTEMPTS):
            delay = card.blocked_until - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            if face == card.shown:
                return
            try:
                await self._send(key, card, Edit(face, None, card.pictured))
                return
            except Exception as exc:
                wait = self._flood_wait(exc)
                if wait is None:
                    raise
                card.blocked_until = self._clock() + wait
        log.warning("gave up editing card %s after flood control", key)

    async def _send(self, key: K, card: _Card, edit: Edit) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            await self._send_edit(key, edit)
            card.shown, card.sent_at = edit.face, self._clock()
            card.pictured = card.pictured or edit.picture is not None

    def _forget_old(self, finished: K) -> None:
        """Keep a finished card's face (a repeated final edit is skipped) but only the newest
        `REMEMBERED` cards, so a long-running bot does not keep them all."""
        self._cards[finished] = self._cards.pop(finished)
        while len(self._cards) > REMEMBERED:
            oldest = next(iter(self._cards))
            if self._cards[oldest].timer is not None:
                break
            del self._cards[oldest]
            self._locks.pop(oldest, None)

    async def close(self) -> None:
        """Stop the waiting edits (at shutdown)."""
        timers = [c.timer for c in self._cards.values() if c.timer is not None]
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._cards.clear()
