"""Albums arrive as one update per item sharing `media_group_id`; gather them briefly.

Each new item restarts the group's timer; when `window` seconds pass without one, the group
is handed on whole. `flush()` hands on every open group at once (on shutdown, in tests).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import Message

log = logging.getLogger(__name__)

Key = tuple[int, str]


class AlbumCollector:
    def __init__(self, window: float, on_album: Callable[[list[Message]], Awaitable[None]]) -> None:
        self.window = window
        self._on_album = on_album
        self._groups: dict[Key, list[Message]] = {}
        self._timers: dict[Key, asyncio.Task[None]] = {}
        self._running: set[asyncio.Task[None]] = set()

    def add(self, message: Message) -> None:
        assert message.media_group_id is not None
        key = (message.chat_id, message.media_group_id)
        self._groups.setdefault(key, []).append(message)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self._timers[key] = asyncio.create_task(self._wait(key), name=f"album-{key[1]}")

    async def _wait(self, key: Key) -> None:
        await asyncio.sleep(self.window)
        # From here on a new item starts a new group instead of cancelling this one.
        task = self._timers.pop(key, None)
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        await self._complete(key)

    async def _complete(self, key: Key) -> None:
        items = self._groups.pop(key, None)
        if not items:
            return
        try:
            await self._on_album(items)
        except Exception:
            log.exception("album %s could not be handled", key[1])

    async def flush(self) -> None:
        """Hand on every open group now."""
        for key, timer in list(self._timers.items()):
            timer.cancel()
            self._timers.pop(key, None)
        await asyncio.gather(*(self._complete(k) for k in list(self._groups)))

    async def close(self) -> None:
        """Drop open groups without handling them."""
        timers = [*self._timers.values(), *self._running]
        for timer in timers:
            timer.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        self._timers.clear()
        self._groups.clear()
