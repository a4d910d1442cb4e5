"""`/talk` replies to audio without a photo: the request waits for the user's next photo."""

from __future__ import annotations

import time
from collections.abc import Callable

from adapters.telegram.parse import AwaitPhoto


class PendingTalks:
    """At most one waiting request per (chat, user); each expires after `ttl` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._waiting: dict[tuple[int, int], tuple[float, AwaitPhoto]] = {}

    def put(self, chat_id: int, user_id: int, request: AwaitPhoto) -> None:
        self._drop_expired()
        self._waiting[(chat_id, user_id)] = (self._clock() + self.ttl, request)

    def take(self, chat_id: int, user_id: int) -> AwaitPhoto | None:
        """The waiting request of this user in this chat, removed; None if none or expired."""
        entry = self._waiting.pop((chat_id, user_id), None)
        if entry is None or entry[0] < self._clock():
            return None
        return entry[1]

    def _drop_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (until, _) in self._waiting.items() if until < now]:
            del self._waiting[key]
