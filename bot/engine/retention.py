"""Retention of accepted jobs' files: `jobs/<id>/` goes a set number of days after the job ended.

Only the folders of ended jobs (done, failed, cancelled) are removed; a queued, running or
delivering job keeps its files, and the archive under `outputs/` is never touched. The sweep
runs when the bot starts and then once a day. The store remembers up to which end time it has
swept, so each sweep reads only the jobs that ended since the last one; a folder that could
not be removed keeps that mark back, so the next sweep tries it again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot.engine.jobs import Job
from bot.engine.store import JobStore
from bot.errors import InputError
from bot.request import Mode

log = logging.getLogger(__name__)

DAY = 86400.0
SWEPT_UNTIL = "retention_swept_until"
# Job ids are made by `bot.engine.jobs.new_job_id`; anything else never names a folder to delete.
JOB_ID = re.compile(r"[0-9a-f]{1,64}")
# What a user sends again when a job's inputs are gone, per mode.
RESEND = {
    Mode.I2V: "the photo",
    Mode.INFINITETALK: "the photo and the audio",
    Mode.ANIMATE: "the photo and the pose video or frames",
    Mode.ANIMATE2: "the photo and the video",
}

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Retention:
    """Removes ended jobs' folders under `jobs_dir` after `keep_days` (0: never)."""

    def __init__(
        self,
        store: JobStore,
        jobs_dir: Path,
        keep_days: int,
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        interval: float = DAY,
    ) -> None:
        self._store = store
        self._jobs_dir = jobs_dir
        self._keep = keep_days * DAY
        self._clock = clock
        self._sleep = sleep
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the daily sweep is scheduled."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Sweep now, then every `interval` seconds, until `stop()`. Nothing when keeping all."""
        if self._keep and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def sweep(self) -> int:
        """Remove the folders of jobs that ended more than `keep_days` ago; returns how many."""
        if not self._keep:
            return 0
        cutoff = self._clock() - self._keep
        since = _as_time(await self._store.meta(SWEPT_UNTIL))
        if cutoff <= since:
            return 0
        ended = await self._store.ended_between(since, cutoff)
        removed, first_failed = await asyncio.to_thread(_remove, self._jobs_dir, ended)
        await self._store.set_meta(SWEPT_UNTIL, repr(min(cutoff, first_failed)))
        if removed:
            days = self._keep / DAY
            log.info("removed the files of %d job(s) that ended over %g days ago", removed, days)
        return removed

    async def _loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("removing old job files failed; trying again in a day")
            await self._sleep(self._interval)


async def require_inputs(job: Job, keep_days: int, now: float | None = None) -> None:
    """Raise `InputError` with a polite reason when `job`'s input files are gone."""
    paths = job.request.inputs.all()
    if await asyncio.to_thread(lambda: all(p.is_file() for p in paths)):
        return
    what = RESEND[job.mode]
    ended = job.finished_at if job.finished_at is not None else job.created_at
    now = time.time() if now is None else now
    if keep_days and now - ended >= keep_days * DAY:
        raise InputError(
            f"The inputs of job {job.id} were removed {keep_days} days after it ended, so it "
            f"cannot be re-rolled; send {what} again."
        )
    raise InputError(
        f"The inputs of job {job.id} are no longer kept, so it cannot be re-rolled; "
        f"send {what} again."
    )


def _as_time(value: str | None) -> float:
    try:
        found = float(value) if value is not None else 0.0
    except ValueError:
        return 0.0
    return found if math.isfinite(found) else 0.0


def _remove(jobs_dir: Path, ended: Sequence[tuple[str, float]]) -> tuple[int, float]:
    """Remove each job's folder; (how many, end time of the first that failed or +inf)."""
    removed, first_failed = 0, math.inf
    for job_id, ended_at in ended:
        if not JOB_ID.fullmatch(job_id):
            continue
        folder = jobs_dir / job_id
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("could not remove %s: %s", folder, exc)
            first_failed = min(first_failed, ended_at)
            continue
        removed += 1
    return removed, first_failed
