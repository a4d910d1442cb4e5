"""Whether long polling works: every getUpdates call's outcome, for `/readyz`.

PTB retries a failing getUpdates for ever, quietly, with its updater still "running"; only the
calls themselves tell that Telegram has not been reached for a while. `WatchedRequest` is the
HTTP client of getUpdates alone and reports each call to `PollingHealth`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.request import HTTPXRequest

from adapters.telegram.connect import one_line

# One failed call is a blip that PTB retries after a second; this many in a row (some 3 s of
# retries) is an outage worth reporting.
ERRORS_IN_A_ROW = 3


class PollingHealth:
    """The run of failed getUpdates calls, if any, and what the last one said."""

    def __init__(self, errors_in_a_row: int = ERRORS_IN_A_ROW) -> None:
        self.limit = errors_in_a_row
        self.failures = 0
        self.last_error = ""
        self._waiters: list[asyncio.Future[None]] = []

    def succeeded(self) -> None:
        self.failures, self.last_error = 0, ""
        self._wake()

    def failed(self, reason: str) -> None:
        self.failures += 1
        self.last_error = reason
        self._wake()

    def problem(self) -> str | None:
        """Why polling is not working, or None while it is."""
        if self.failures < self.limit:
            return None
        return f"getUpdates failed {self.failures} times in a row (last: {self.last_error})"

    async def changed(self) -> None:
        """Return after the next call's outcome is known."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()


class WatchedRequest(HTTPXRequest):
    """PTB's HTTP client, telling `health` how each call went."""

    def __init__(self, health: PollingHealth, **options: Any) -> None:
        super().__init__(**options)
        self.health = health

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, payload = await super().do_request(*args, **kwargs)
        except Exception as exc:  # what PTB raises for the network: its retry loop goes on
            self.health.failed(one_line(exc))
            raise
        if status == 200:
            self.health.succeeded()
        else:
            self.health.failed(f"HTTP {status}")
        return status, payload
