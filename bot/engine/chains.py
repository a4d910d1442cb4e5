"""A long video in the engine: one clip per run, each stored as it finishes, then joined.

A chain job (`bot.chain`) runs one clip per dispatch: its shot's prompt, the previous clip's
latent uploaded beside the start image. When a clip is made, its video and latent stay in the
job's folder and are named in `job.clips` by the same write that queues the job again for its
next clip (with the GPU seconds so far). So a restart resumes at the next clip (each clip's
prompt id is committed before the host gets it, as for any job: none is made twice), other
users' jobs take their turns between clips, and quotas count each clip's GPU time. After the
last clip the clips are joined and delivered like any video; the archive's JSON names them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.chain import clip_count, clip_files, clip_job, clip_made, join_chain, plan_chain
from bot.engine.delivery import Deliveries
from bot.engine.hosts import Host
from bot.engine.jobs import Job, JobStatus
from bot.engine.ledger import Ledger
from bot.intake import PreparedJob
from bot.runner import RunResult

log = logging.getLogger(__name__)


def next_run(job: Job) -> tuple[PreparedJob, Path, str]:
    """What the job's next run makes: its prepared job, where the video goes and the prefix
    of the host's output files (a chain: its next clip's)."""
    prepared = PreparedJob(job.request, job.files)
    plan = plan_chain(job.request)
    if plan is None:
        return prepared, job.work_dir / "result.mp4", f"wanbot_{job.id}"
    index = len(job.clips)
    video, _ = clip_files(job.work_dir, index)
    return clip_job(prepared, plan, job.clips), video, f"wanbot_{job.id}_clip{index:03}"


def position(job: Job) -> tuple[int, int]:
    """(the clip being made, 1 first; how many) of a job; (1, 1) for one clip."""
    return len(job.clips) + 1, clip_count(job.request)


class Chains:
    """Settles each made clip of the chain jobs: the next one, or the whole video."""

    def __init__(self, ledger: Ledger, delivery: Deliveries) -> None:
        self._ledger = ledger
        self._delivery = delivery

    async def clip_made(self, job: Job, host: Host, collected: RunResult) -> None:
        """Store the clip (its latent is already fetched) and queue the next, or join them
        all and deliver."""
        plan = plan_chain(job.request)
        assert plan is not None
        index = len(job.clips)
        made = clip_made(job.request, plan, index, collected, host=host.name, work_dir=job.work_dir)
        job.clips = [*job.clips, made]
        job.gpu_seconds = round(sum(clip.gpu_seconds for clip in job.clips), 3)
        if len(job.clips) < plan.clips:
            await self._ledger.next_clip(job)
            return
        joined = job.work_dir / "result.mp4"
        try:
            await join_chain(job.clips, plan, joined)
        except Exception as exc:
            log.error("job %s: could not join its %d clips", job.id, plan.clips, exc_info=exc)
            await self._ledger.fail(
                job, f"Something went wrong with job {job.id}; it has been logged."
            )
            return
        whole = RunResult(joined, job.gpu_seconds, collected.started_at, collected.prompt_id, None)
        if job.status is JobStatus.RUNNING:
            await self._delivery.finish(job, host, whole)
