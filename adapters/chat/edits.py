"""Editing one card per job without tripping a platform's flood control.

At most one edit per `interval` seconds per card; a newer text replaces one still waiting; an
edit that would not change the text is skipped. When the platform says "too many requests"
(the `flood_wait` hook turns its error into the seconds to wait), the card waits that long
before its next edit. Final texts (done, failed, cancelled) skip the interval but wait out
flood control, a few times at most; a card's last text is kept, so the same final text is not
sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
FINAL_ATTEMPTS = 4
REMEMBERED = 1024  # cards whose last text is kept


def no_flood_wait(exc: BaseException) -> float | None:
    """A platform whose library waits out flood control itself (discord.py) has no hook."""
    return None


@dataclass
class _Card:
    shown: str | None = None
    sent_at: float = float("-inf")
    blocked_until: float = float("-inf")
    waiting: str | None = None
    timer: asyncio.Task[None] | None = None


class CardEditor(Generic[K]):
    """Throttled edits of cards named by a platform's key (e.g. chat id and message id).

    `send(key, text)` edits the card on the platform; `flood_wait(exc)` is the platform's
    flood-wait hook: the seconds to wait for an error that asks for it, else None.
    """

    def __init__(
        self,
        send: Callable[[K, str], Awaitable[None]],
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

    def remember(self, key: K, text: str) -> None:
        """Record the text a card was sent with (so an identical edit is skipped)."""
        card = self._cards.setdefault(key, _Card())
        card.shown, card.sent_at = text, self._clock()

    async def edit(self, key: K, text: str, *, final: bool = False) -> None:
        """Show `text` on the card: at once when `final`, else within the interval."""
        card = self._cards.setdefault(key, _Card())
        if final:
            if card.timer is not None:
                card.timer.cancel()
                card.timer = None
            card.waiting = None
            await self._send_final(key, card, text)
            self._forget_old(key)
            return
        if text == card.shown and card.waiting is None:
            return
        card.waiting = text
        if card.timer is None:
            card.timer = asyncio.create_task(self._flush_later(key, card))

    async def _flush_later(self, key: K, card: _Card) -> None:
        try:
            while card.waiting is not None:
                delay = max(card.sent_at + self.interval, card.blocked_until) - self._clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                text, card.waiting = card.waiting, None
                if text is None or text == card.shown:
                    continue
                try:
                    await self._send(key, card, text)
                except Exception as exc:
                    wait = self._flood_wait(exc)
                    if wait is None:
                        log.exception("editing card %s failed", key)
                        continue
                    card.blocked_until = self._clock() + wait
                    if card.waiting is None:
                        card.waiting = text
        finally:
            card.timer = None

    async def _send_final(self, key: K, card: _Card, text: str) -> None:
        for _ in range(FINAL_ATTEMPTS):
            delay = card.blocked_until - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            if text == card.shown:
                return
            try:
                await self._send(key, card, text)
                return
            except Exception as exc:
                wait = self._flood_wait(exc)
                if wait is None:
                    raise
                card.blocked_until = self._clock() + wait
        log.warning("gave up editing card %s after flood control", key)

    async def _send(self, key: K, card: _Card, text: str) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            await self._send_edit(key, text)
            card.shown, card.sent_at = text, self._clock()

    def _forget_old(self, finished: K) -> None:
        """Keep a finished card's text (a repeated final edit is skipped) but only the newest
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
