"""Per-user quotas over a rolling 24 hours: jobs, GPU-seconds, and a cooldown between
submissions. Counted from the store, so a restart does not reset them; admins are exempt.

A job counts against `jobs_per_day` unless it failed or was cancelled without using the GPU;
its measured GPU-seconds count against `gpu_seconds_per_day` once it has run. A quota frees
up as the jobs that used it turn 24 hours old.
"""

from __future__ import annotations

import time
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

    async def view(self, platform: str, user_id: str) -> QuotaView:
        s = self._settings
        now = self.clock()
        rows = await self._store.usage_since(platform, user_id, now - DAY)
        counted = [r for r in rows if r[1] not in FREE or (r[2] or 0) > 0]
        gpu = sum(r[2] or 0.0 for r in rows)
        last = max((r[0] for r in rows), default=None)
        cooldown = 0.0 if last is None else max(0.0, last + s.cooldown_seconds - now)
        oldest = min((r[0] for r in counted), default=None)
        exempt = f"{platform}:{user_id}" in self._admins
        return QuotaView(
            jobs_used=len(counted),
            jobs_limit=s.jobs_per_day,
            gpu_used=gpu,
            gpu_limit=s.gpu_seconds_per_day,
            cooldown_left=cooldown if s.cooldown_seconds else 0.0,
            resets_in=None if oldest is None else max(0.0, oldest + DAY - now),
            exempt=exempt,
        )

    async def check(self, platform: str, user_id: str, count: int = 1) -> None:
        """Raise `QuotaError` unless `count` more jobs fit the user's quotas now."""
        v = await self.view(platform, user_id)
        if v.exempt:
            return
        if v.cooldown_left > 0:
            raise QuotaError(
                f"Please wait {duration_text(v.cooldown_left)} before your next job "
                f"(one every {duration_text(self._settings.cooldown_seconds)})."
            )
        when = self._when(v.resets_in)
        if v.jobs_limit and v.jobs_used + count > v.jobs_limit:
            room = max(0, v.jobs_limit - v.jobs_used)
            fits = f" {room} more fit now." if count > 1 and room else ""
            raise QuotaError(
                f"You have used {v.jobs_used} of your {v.jobs_limit} jobs for the last 24 "
                f"hours.{fits} You can send more {when}."
            )
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
