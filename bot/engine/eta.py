"""Time estimates from measured seconds per unit of work per (host, mode).

A job's work is its frames times its sampler steps times its frame size over 832x480
(`work`): the GPU time of a Wan job grows with each, so a 4-step job is estimated at about
4/30 of a 30-step one of the same size. Until a host has finished a job of a mode, the
`default_seconds_per_frame` from `[queue]` is used, read as the time per frame of a
30-step 832x480 job. Estimates are rough by nature: they assume the jobs ahead cost what
queued jobs cost on average and that every up host works in parallel.
"""

from __future__ import annotations

from bot.chain import clip_count
from bot.request import JobRequest, Mode

# The job that `default_seconds_per_frame` describes: 30 steps at 832x480.
REFERENCE_STEPS = 30
REFERENCE_PIXELS = 832 * 480


def work(request: JobRequest) -> float:
    """A job's units of work: frames x steps x (width x height / 832x480), for each of the
    clips of a long video."""
    params = request.params
    pixels = params.width * params.height / REFERENCE_PIXELS
    return max(1, params.frames) * max(1, params.steps) * pixels * clip_count(request)


class Estimator:
    def __init__(self, default_spf: float, speeds: dict[tuple[str, Mode], float] | None = None):
        self.default_spu = default_spf / REFERENCE_STEPS
        self._speeds: dict[tuple[str, Mode], float] = dict(speeds or {})

    def load(self, speeds: dict[tuple[str, Mode], float]) -> None:
        """Replace the measurements (from the store, at start)."""
        self._speeds = dict(speeds)

    def update(self, host: str, mode: Mode, seconds_per_unit: float) -> None:
        self._speeds[(host, mode)] = seconds_per_unit

    def seconds_per_unit(self, mode: Mode, host: str | None = None) -> float:
        if host is not None and (host, mode) in self._speeds:
            return self._speeds[(host, mode)]
        known = [spu for (_, m), spu in self._speeds.items() if m is mode]
        return sum(known) / len(known) if known else self.default_spu

    def cost(self, mode: Mode, units: float, host: str | None = None) -> float:
        """Estimated GPU seconds of a job of `units` of work (`work`)."""
        return units * self.seconds_per_unit(mode, host)

    @staticmethod
    def remaining(cost: float, elapsed: float, percent: float) -> float:
        """Seconds left for a running job, from its progress when there is some.

        Before the first progress report (models loading, uploads) nothing says how far the
        job is, so the learned estimate stands whole: counting it down would reach "0 s"
        while the job has not begun sampling.
        """
        if percent >= 100:
            return 0.0
        if percent > 0 and elapsed > 0:
            return max(0.0, elapsed * (100 - percent) / percent)
        return max(0.0, cost)

    @staticmethod
    def queued(
        position: int, mean_cost: float, own_cost: float, busy_seconds: float, capacity: int
    ) -> float:
        """Seconds until a queued job at `position` (1 = next) is done."""
        ahead = (position - 1) * mean_cost + busy_seconds
        return ahead / max(1, capacity) + own_cost
