"""Inputs uploaded ahead: while a host is busy, the job it will most likely take next gets its
files uploaded there, so the hand-over is a single `POST /prompt`.

The guess is the scheduler's current choice for that host, with the jobs already guessed for
hosts that should be free sooner set aside. Nothing is committed to a host early: when another
job starts there instead (a cancel, a fairer job arrived, another host was freed first), the
uploaded files are simply not used, and that job uploads its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from bot.config import Queue
from bot.engine.hosts import Host
from bot.engine.jobs import Job
from bot.engine.ledger import Ledger
from bot.engine.scheduler import FairQueue, Slot, select
from bot.intake import PreparedJob
from bot.runner import upload_inputs
from comfy.errors import ComfyError

log = logging.getLogger(__name__)

Uploads = asyncio.Task[dict[Path, str]]


class Prefetch:
    """At most one job's inputs ahead per host: {host name: (job id, upload task)}."""

    def __init__(
        self,
        queue: FairQueue,
        ledger: Ledger,
        eligible: Callable[[str], bool],
        limits: Queue,
    ) -> None:
        self._queue = queue
        self._ledger = ledger
        self._eligible = eligible
        self._affinity_max_wait = limits.affinity_max_wait
        self._ahead: dict[str, tuple[str, Uploads]] = {}

    def plan(self, hosts: Iterable[Host], running: Iterable[Job]) -> None:
        """Upload ahead to every busy host the job it would take next, the host whose job
        began first choosing first.

        The hosts go in the order their jobs began, not by when progress says they will end:
        that order changes only when a host starts a job, so a guess is not moved from host
        to host (and uploaded again) whenever a progress event arrives.
        """
        on_gpu = {job_id: h for h in hosts for job_id in h.running}  # not those downloading
        began: dict[str, float] = {}
        for job in running:
            host = on_gpu.get(job.id)
            if host is not None and job.started_at is not None:
                began[host.name] = min(began.get(host.name, job.started_at), job.started_at)
        busy = {h.name: h for h in on_gpu.values() if h.up and not h.paused and h.free == 0}
        taken: set[str] = set()
        now = time.time()
        for host in sorted(busy.values(), key=lambda h: began.get(h.name, now)):
            slot = Slot(host.name, host.last_mode, host.features or frozenset())
            choice = select(
                self._queue,
                [slot],
                now=now,
                affinity_max_wait=self._affinity_max_wait,
                eligible=self._eligible,
                skip=taken,
            )
            if choice is None:
                self._drop(host.name)
                continue
            taken.add(choice[0].job_id)
            self._upload(host, choice[0].job_id)

    def claim(self, host: str, job_id: str) -> Uploads | None:
        """The upload made ahead for `job_id` on `host`, now that it starts there."""
        ahead = self._ahead.get(host)
        if ahead is None or ahead[0] != job_id:
            return None
        del self._ahead[host]
        return ahead[1]

    def forget(self, host: str) -> None:
        """`host` went down: what was uploaded there is no longer counted on."""
        self._drop(host)

    def close(self) -> None:
        for host in list(self._ahead):
            self._drop(host)

    def _upload(self, host: Host, job_id: str) -> None:
        ahead = self._ahead.get(host.name)
        if ahead is not None and ahead[0] == job_id:
            return
        self._drop(host.name)
        log.debug("uploading the inputs of job %s to %s ahead", job_id, host.name)
        task = asyncio.create_task(self._inputs(host, job_id), name=f"ahead-{job_id}")
        task.add_done_callback(_quiet)
        self._ahead[host.name] = (job_id, task)

    async def _inputs(self, host: Host, job_id: str) -> dict[Path, str]:
        """Upload the job's inputs (a queued one is read whole from the store, not held)."""
        job = await self._ledger.whole(job_id)
        if job is None:
            return {}
        return await upload_inputs(PreparedJob(job.request, job.files), host.client)

    def _drop(self, host: str) -> None:
        ahead = self._ahead.pop(host, None)
        if ahead is not None:
            ahead[1].cancel()


async def uploaded(task: Uploads | None) -> dict[Path, str] | None:
    """The names an upload ahead stored the files under; None when it failed or never was."""
    if task is None:
        return None
    try:
        return await asyncio.shield(task)
    except Exception:
        return None  # the run uploads them itself, and reports the error if it recurs
    except asyncio.CancelledError:
        if task.cancelled():
            return None
        raise


def _quiet(task: Uploads) -> None:
    """An upload nobody waits for any more must not log 'exception never retrieved'."""
    with contextlib.suppress(asyncio.CancelledError):
        exc = task.exception()
        if exc is not None and not isinstance(exc, ComfyError):
            log.warning("upload ahead failed", exc_info=exc)
