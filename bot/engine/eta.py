"""Time estimates from measured seconds per frame per (host, mode).

Until a host has finished a job of a mode, `default_seconds_per_frame` from `[queue]` is used.
Estimates are rough by nature: they assume the jobs ahead cost what queued jobs cost on
average and that every up host works in parallel.
"""

from __future__ import annotations

from bot.request import Mode


class Estimator:
    def __init__(self, default_spf: float, speeds: dict[tuple[str, Mode], float] | None = None):
        self.default_spf = default_spf
        self._speeds: dict[tuple[str, Mode], float] = dict(speeds or {})

    def load(self, speeds: dict[tuple[str, Mode], float]) -> None:
        """Replace the measurements (from the store, at start)."""
        self._speeds = dict(speeds)

    def update(self, host: str, mode: Mode, seconds_per_frame: float) -> None:
        self._speeds[(host, mode)] = seconds_per_frame

    def seconds_per_frame(self, mode: Mode, host: str | None = None) -> float:
        if host is not None and (host, mode) in self._speeds:
            return self._speeds[(host, mode)]
        known = [spf for (_, m), spf in self._speeds.items() if m is mode]
        return sum(known) / len(known) if known else self.default_spf

    def cost(self, mode: Mode, frames: int, host: str | None = None) -> float:
        """Estimated GPU seconds of one job."""
        return frames * self.seconds_per_frame(mode, host)

    @staticmethod
    def remaining(cost: float, elapsed: float, percent: float) -> float:
        """Seconds left for a running job, from its progress when there is some."""
        if 0 < percent < 100 and elapsed > 0:
            return max(0.0, elapsed * (100 - percent) / percent)
        return max(0.0, cost - elapsed)

    @staticmethod
    def queued(
        position: int, mean_cost: float, own_cost: float, busy_seconds: float, capacity: int
    ) -> float:
        """Seconds until a queued job at `position` (1 = next) is done."""
        ahead = (position - 1) * mean_cost + busy_seconds
        return ahead / max(1, capacity) + own_cost
