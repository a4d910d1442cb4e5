"""Editing one job card per job without flooding Discord.

At most one edit per `interval` seconds per card; a newer text replaces one still waiting; an
edit that would not change the text is skipped. A 429 is waited out by discord.py itself
(it sleeps `retry_after` and retries the same edit), which holds back this card's next edit
too. Final texts (done, failed, cancelled) skip the interval; a card's last text is kept, so
the same final text is not sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Key = tuple[int, int]  # channel id, message id
Edit = Callable[[int, int, str], Awaitable[None]]
REMEMBERED = 1024  # cards whose last text is kept


@dataclass
class _Card:
    shown: str | None = None
    sent_at: float = float("-inf")
    waiting: str | None = None
    timer: asyncio.Task[None] | None = None


class CardEditor:
    def __init__(
        self, edit: Edit, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._edit = edit
        self.interval = interval
        self._clock = clock
        self._cards: dict[Key, _Card] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    def remember(self, channel_id: int, message_id: int, text: str) -> None:
        """Record the text a card was sent with (so an identical edit is skipped)."""
        card = self._cards.setdefault((channel_id, message_id), _Card())
        card.shown, card.sent_at = text, self._clock()

    async def edit(
        self, channel_id: int, message_id: int, text: str, *, final: bool = False
    ) -> None:
        key = (channel_id, message_id)
        card = self._cards.setdefault(key, _Card())
        if final:
            if card.timer is not None:
                card.timer.cancel()
                card.timer = None
            card.waiting = None
            if text != card.shown:
                await self._send(key, card, text)
            self._forget_old(key)
            return
        if text == card.shown and card.waiting is None:
            return
        card.waiting = text
        if card.timer is None:
            card.timer = asyncio.create_task(self._flush_later(key, card))

    async def _flush_later(self, key: Key, card: _Card) -> None:
        try:
            while card.waiting is not None:
                delay = card.sent_at + self.interval - self._clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                text, card.waiting = card.waiting, None
                if text is None or text == card.shown:
                    continue
                try:
                    await self._send(key, card, text)
                except Exception:
                    log.exception("editing job card %s failed", key)
        finally:
            card.timer = None

    def _forget_old(self, finished: Key) -> None:
        """Keep a finished card's text (a repeated final edit is skipped) but only the newest
        `REMEMBERED` cards, so a long-running bot does not keep them all."""
        self._cards[finished] = self._cards.pop(finished)
        while len(self._cards) > REMEMBERED:
            oldest = next(iter(self._cards))
            if self._cards[oldest].timer is not None:
                break
            del self._cards[oldest]
            self._locks.pop(oldest, None)

    async def _send(self, key: Key, card: _Card, text: str) -> None:
        async with self._locks.setdefault(key, asyncio.Lock()):
            await self._edit(key[0], key[1], text)
            card.shown, card.sent_at = text, self._clock()

    async def close(self) -> None:
        timers = [c.timer for c in self._cards.values() if c.timer is not None]
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._cards.clear()
