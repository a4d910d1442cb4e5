"""Editing one status message per job without tripping Telegram's flood control.

At most one edit per `interval` seconds per message; a newer text replaces one that is still
waiting; an edit that would not change the text is skipped; a `RetryAfter` pauses the message
for as long as Telegram asks. Final texts (done, failed, cancelled) skip the interval but still
wait out a `RetryAfter`.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, RetryAfter

log = logging.getLogger(__name__)

Key = tuple[int, int]
FINAL_ATTEMPTS = 4


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@dataclass
class _State:
    shown: str | None = None
    sent_at: float = float("-inf")
    blocked_until: float = float("-inf")
    waiting: str | None = None
    markup: InlineKeyboardMarkup | None = None
    timer: asyncio.Task[None] | None = None


class MessageEditor:
    def __init__(
        self, bot: Bot, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bot = bot
        self.interval = interval
        self._clock = clock
        self._states: dict[Key, _State] = {}
        self._locks: dict[Key, asyncio.Lock] = {}

    def remember(self, chat_id: int, message_id: int, text: str) -> None:
        """Record the text a message was sent with (so an identical edit is skipped)."""
        state = self._states.setdefault((chat_id, message_id), _State())
        state.shown, state.sent_at = text, self._clock()

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        *,
        final: bool = False,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        key = (chat_id, message_id)
        state = self._states.setdefault(key, _State())
        if final:
            self._cancel_timer(state)
            state.waiting = None
            await self._send_final(key, state, text, markup)
            self._states.pop(key, None)
            self._locks.pop(key, None)
            return
        if text == state.shown and state.waiting is None:
            return
        state.waiting, state.markup = text, markup
        if state.timer is None:
            state.timer = asyncio.create_task(self._flush_later(key, state))

    def _ready_at(self, state: _State) -> float:
        return max(state.sent_at + self.interval, state.blocked_until)

    async def _flush_later(self, key: Key, state: _State) -> None:
        try:
            while state.waiting is not None:
                delay = self._ready_at(state) - self._clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                text, state.waiting = state.waiting, None
                if text is None or text == state.shown:
                    continue
                try:
                    await self._send(key, state, text, state.markup)
                except RetryAfter as exc:
                    state.blocked_until = self._clock() + retry_seconds(exc)
                    if state.waiting is None:
                        state.waiting = text
                except Exception:
                    log.exception("editing status message %s failed", key)
        finally:
            state.timer = None

    async def _send_final(
        self, key: Key, state: _State, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        for _ in range(FINAL_ATTEMPTS):
            delay = state.blocked_until - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            if text == state.shown and markup is None:
                return
            try:
                await self._send(key, state, text, markup)
                return
            except RetryAfter as exc:
                state.blocked_until = self._clock() + retry_seconds(exc)
        log.warning("gave up editing status message %s after flood control", key)

    async def _send(
        self, key: Key, state: _State, text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                await self.bot.edit_message_text(
                    text, chat_id=key[0], message_id=key[1], reply_markup=markup
                )
            except BadRequest as exc:
                # The text is already shown (e.g. after a restart); nothing to do.
                if "not modified" not in exc.message.lower():
                    raise
            state.shown, state.sent_at = text, self._clock()

    def _cancel_timer(self, state: _State) -> None:
        if state.timer is not None:
            state.timer.cancel()
            state.timer = None

    async def close(self) -> None:
        timers = [s.timer for s in self._states.values() if s.timer is not None]
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._states.clear()
