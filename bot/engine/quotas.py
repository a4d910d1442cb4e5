"""Per-user quotas over a rolling 24 hours: jobs, GPU-seconds, and a cooldown between
submissions. Counted from the store, so a restart does not reset them; admins are exempt.

A job counts against `jobs_per_day` unless it failed or was cancelled without using the GPU;
its measured GPU-seconds count against `gpu_seconds_per_day` once it has run. A quota frees
up as the jobs that used it turn 24 hours old.

Requests arrive together (chats handle updates concurrently), so quota is reserved when a
request is admitted, before its files are fetched: jobs being accepted count as used, and a
submission in progress starts the cooldown. `reserve` checks and holds in one step;
`release` gives the hold back (refused) or hands it to the stored rows (accepted).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config import Quotas as QuotaSettings
from bot.engine.store import JobStore
from bot.errors import LimitError
from bot.media.units import duration_text

DAY = 24 * 3600.0
FREE = ("failed", "cancelled")  # statuses that do not count when no GPU time was used


class QuotaError(LimitError):
    """Over a quota; the message says when the user can try again."""


@dataclass(frozen=True)
class QuotaView:
    """What a user has used and may still use; limits of 0 mean none."""

    jobs_used: int
    jobs_limit: int
    gpu_used: float
    gpu_limit: float
    cooldown_left: float
    resets_in: float | None  # seconds until the oldest counted job turns 24 hours old
    exempt: bool = False


class Quotas:
    def __init__(
        self,
        store: JobStore,
        settings: QuotaSettings,
        admins: frozenset[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settings = settings
        self._admins = admins
        self.clock = clock
        # Jobs held by requests being admitted, per "platform:user_id".
        self._pending: Counter[str] = Counter()
        # Holds handed to stored rows, per user: a view read while one was handed over reads
        # again, so it never misses a job that is neither pending nor yet seen in the store.
        self._handed: Counter[str] = Counter()

    async def view(self, platform: str, user_id: str, *, exempt: bool = False) -> QuotaView:
        """What the user has used (jobs being accepted included) and may still use."""
        user = f"{platform}:{user_id}"
        while True:
            handed = self._handed[user]
            rows = await self._store.usage_since(platform, user_id, self.clock() - DAY)
            if self._handed[user] == handed:
                break
        s = self._settings
        now = self.clock()
        pending = self._pending[user]
        counted = [r for r in rows if r[1] not in FREE or (r[2] or 0) > 0]
        gpu = sum(r[2] or 0.0 for r in rows)
        last = now if pending else max((r[0] for r in rows), default=None)
        cooldown = 0.0 if last is None else max(0.0, last + s.cooldown_seconds - now)
        oldest = min((r[0] for r in counted), default=now if pending else None)
        return QuotaView(
            jobs_used=len(counted) + pending,
            jobs_limit=s.jobs_per_day,
            gpu_used=gpu,
            gpu_limit=s.gpu_seconds_per_day,
            cooldown_left=cooldown if s.cooldown_seconds else 0.0,
            resets_in=None if oldest is None else max(0.0, oldest + DAY - now),
            exempt=exempt or user in self._admins,
        )

    async def reserve(
        self, platform: str, user_id: str, count: int = 1, *, exempt: bool = False
    ) -> None:
        """Hold `count` jobs of the user's quota, or raise `QuotaError` saying when to try
        again. Nothing is awaited between the check and the hold, so two requests of one user
        that arrive together cannot both pass. Every hold ends with one `release`."""
        view = await self.view(platform, user_id, exempt=exempt)
        if not view.exempt:
            self._check(view, count)
        self._pending[f"{platform}:{user_id}"] += count

    def release(self, platform: str, user_id: str, count: int, *, stored: bool) -> None:
        """End a hold: its jobs were refused (`stored=False`) or are now rows in the store."""
        user = f"{platform}:{user_id}"
        self._pending[user] -= count
        if self._pending[user] <= 0:
            del self._pending[user]
        if stored:
            self._handed[user] += 1

    def _check(self, v: QuotaView, count: int) -> None:
        if v.cooldown_left > 0:
            raise QuotaError(
                f"Please wait {duration_text(v.cooldown_left)} before your next job "
                f"(one every {duration_text(self._settings.cooldown_seconds)})."
            )
        when = self._when(v.resets_in)
        if v.jobs_limit and v.jobs_used + count > v.jobs_limit:
            room = max(0, v.jobs_limit - v.jobs_used)
            used = f"You have used {v.jobs_used} of your {v.jobs_limit} jobs for the last 24 hours"
            if room:
                raise QuotaError(f"{used}, so {room} more fit now: send fewer.")
            raise QuotaError(f"{used}. You can send more {when}.")
        if v.gpu_limit and v.gpu_used >= v.gpu_limit:
            raise QuotaError(
                f"You have used your {duration_text(v.gpu_limit)} of GPU time for the last 24 "
                f"hours. You can send more {when}."
            )

    def _when(self, seconds: float | None) -> str:
        if seconds is None:
            return "now"
        at = datetime.fromtimestamp(self.clock() + seconds, UTC).strftime("%H:%M UTC")
        return f"in {duration_text(seconds)} (at {at})"


def quota_text(view: QuotaView) -> str:
    """`/quota` on any platform (plain text)."""
    if view.exempt:
        return "You are an admin: no quotas apply to you."
    lines = []
    if view.jobs_limit:
        left = max(0, view.jobs_limit - view.jobs_used)
        lines.append(f"Jobs: {view.jobs_used} of {view.jobs_limit} used, {left} left.")
    if view.gpu_limit:
        left_gpu = max(0.0, view.gpu_limit - view.gpu_used)
        lines.append(
            f"GPU time: {duration_text(view.gpu_used)} of {duration_text(view.gpu_limit)} "
            f"used, {duration_text(left_gpu)} left."
        )
    if view.cooldown_left:
        lines.append(f"Next job possible in {duration_text(view.cooldown_left)}.")
    if not lines:
        return "No quotas are set: send as many jobs as the queue takes."
    if view.resets_in is not None:
        lines.append(f"Quotas count the last 24 hours; the oldest use frees up in "
                     f"{duration_text(view.resets_in)}.")  # fmt: skip
    return "\n".join(lines)
