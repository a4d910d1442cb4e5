"""After the GPU work: archive a job's video, learn its speed, hand it to the front end.

`delivered` is committed the moment the platform has the video (the front end calls
`JobResult.sent`), so neither a failure after that (a card edit) nor a restart sends it twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import av

from bot.archive import Archive, archive_joined, make_record, record_clips
from bot.config import Config
from bot.engine.eta import Estimator, work
from bot.engine.events import JobFinished
from bot.engine.hosts import Host
from bot.engine.jobs import Job, JobResult, JobStatus
from bot.engine.ledger import Ledger
from bot.engine.store import JobStore
from bot.errors import UserError
from bot.runner import RunResult

log = logging.getLogger(__name__)

DELIVERY_ATTEMPTS = 3


class Deliveries:
    """Finishes jobs whose video was made: archive, deliver, retry, re-deliver after a restart."""

    def __init__(
        self,
        config: Config,
        store: JobStore,
        archive: Archive,
        estimator: Estimator,
        ledger: Ledger,
    ) -> None:
        self._config = config
        self._store = store
        self._archive = archive
        self._estimator = estimator
        self._ledger = ledger
        # Seconds before the 2nd and 3rd delivery attempt are this times 1 and 2.
        self.backoff = 1.0

    async def finish(self, job: Job, host: Host, collected: RunResult) -> None:
        """Archive a downloaded result, record the host's speed, then deliver it."""
        try:
            video = await archive_result(job, host, self._config, self._archive, collected)
            if job.clips:
                await record_clips(video, [clip.as_dict() for clip in job.clips])
            if job.request.extends is not None:
                video = await _joined(job, video)
        except Exception as exc:
            log.error("could not archive job %s", job.id, exc_info=exc)
            await self._ledger.fail(
                job, f"Something went wrong with job {job.id}; it has been logged."
            )
            return
        job.output, job.gpu_seconds = video, round(collected.gpu_seconds, 3)
        job.status, job.progress = JobStatus.DELIVERING, 100.0
        await self._store.update(job, "output", "gpu_seconds", "status", "progress", "clips")
        spu = collected.gpu_seconds / work(job.request)
        self._estimator.update(
            host.name, job.mode, await self._store.record_speed(host.name, job.mode, spu)
        )
        await self.deliver(job)

    async def deliver(self, job: Job) -> None:
        """Hand the result to the front end, a few times if it fails before the video is
        sent; once `sent` is committed, the job is done whatever follows."""
        assert job.output is not None

        async def sent() -> None:
            job.delivered = True
            await self._store.update(job, "delivered")

        result = JobResult(
            video=job.output,
            json=job.output.with_suffix(".json"),
            gpu_seconds=job.gpu_seconds or 0.0,
            host=job.host or "",
            request=job.request,
            sent=sent,
        )
        frontend = self._ledger.frontend(job)
        for attempt in range(DELIVERY_ATTEMPTS if frontend is not None else 0):
            if attempt:
                await asyncio.sleep(self.backoff * attempt)
            await self._ledger.flush(job)
            # Another process may lead now (this one was frozen): then it delivers, not this.
            await self._store.check_leading()
            try:
                await frontend.deliver(job, result)  # type: ignore[union-attr]
            except Exception as exc:
                if job.delivered:  # the video went out; what failed came after it
                    log.warning("job %s was sent, then its front end failed: %s", job.id, exc)
                    break
                log.warning("delivery %d of job %s failed: %s", attempt + 1, job.id, exc)
                self._ledger.delivery_failed(job)
                continue
            await self._done(job, result)
            return
        if job.delivered:
            await self._done(job, result)
            return
        if frontend is None:
            log.error("job %s: no front end registered for %r", job.id, job.platform)
        await self._ledger.fail(
            job,
            f"Job {job.id} was made but could not be sent; it is kept as {job.output.name}. "
            f"An operator can send it to you.",
        )

    async def redeliver(self, job: Job) -> None:
        """After a restart: deliver a "delivering" job unless it was sent (as committed, or
        as a front end that can read its platform's history says)."""
        frontend = self._ledger.frontend(job)
        try:
            sent = job.delivered or (frontend is not None and await frontend.was_delivered(job))
        except Exception:
            log.exception("was_delivered failed for job %s", job.id)
            sent = False
        if sent:
            await self._done(job, None)
        elif job.output is None or not job.output.exists():
            await self._ledger.fail(
                job, f"The video of job {job.id} was lost; please run it again."
            )
        else:
            await self.deliver(job)

    async def _done(self, job: Job, result: JobResult | None) -> None:
        """Commit the delivery; tell the user unless it was sent before a restart."""
        job.delivered, job.status, job.finished_at = True, JobStatus.DONE, time.time()
        await self._store.update(job, "delivered", "status", "finished_at")
        if result is not None:
            self._ledger.emit(job, JobFinished(result))
        self._ledger.retire(job)


async def archive_result(
    job: Job, host: Host, config: Config, archive: Archive, collected: RunResult
) -> Path:
    """Save the video with a full record; returns the archived MP4's path."""
    record = await make_record(
        collected.video,
        job.request,
        host.config,
        config,
        job_id=job.id,
        prompt_id=job.prompt_id,
        workflow=job.workflow,
        queued_at=datetime.fromtimestamp(job.created_at, UTC),
        started_at=None if job.started_at is None else datetime.fromtimestamp(job.started_at, UTC),
        gpu_seconds=collected.gpu_seconds,
    )
    return await archive.save(collected.video, record)


async def _joined(job: Job, continuation: Path) -> Path:
    """The extension joined to its original; the continuation alone if that cannot be done."""
    assert job.request.extends is not None
    try:
        return await archive_joined(job.request.extends, continuation)
    except (UserError, OSError, av.FFmpegError) as exc:
        log.warning("job %s: could not join it to its original: %s", job.id, exc)
        return continuation
