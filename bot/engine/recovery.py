"""What to do, after a start, with the jobs a previous run left unfinished.

- queued: back in the queue, in their original order, as `Queued` records (read whole when
  they start);
- running with a prompt id on a known, up host: re-attached (followed to the end, or fetched
  if it finished while the bot was down); submitted now if the host does not have that
  prompt (the bot stopped between committing the id and sending it, or ComfyUI restarted);
- running without a prompt id (it stopped while uploading) or on a host that is gone or
  down: back in the queue;
- delivering: the front end is asked whether it was already sent; if not, it is sent again.

`plan_recovery` decides; `recover` carries the plan out on the engine's collaborators.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.engine.delivery import Deliveries
from bot.engine.hosts import HostPool
from bot.engine.jobs import Job, JobStatus
from bot.engine.ledger import Ledger
from bot.engine.runs import Runs, Spawn
from bot.engine.slim import Queued
from bot.engine.store import JobStore

log = logging.getLogger(__name__)


@dataclass
class RecoveryPlan:
    queue: list[Job] = field(default_factory=list)
    reattach: list[Job] = field(default_factory=list)
    requeue: list[Job] = field(default_factory=list)
    deliver: list[Job] = field(default_factory=list)


def plan_recovery(jobs: list[Job], hosts: HostPool) -> RecoveryPlan:
    """Sort active jobs (oldest first) into what to do with each."""
    plan = RecoveryPlan()
    for job in sorted(jobs, key=lambda j: j.seq):
        if job.status is JobStatus.QUEUED:
            plan.queue.append(job)
        elif job.status is JobStatus.DELIVERING:
            plan.deliver.append(job)
        elif job.prompt_id and job.host is not None and job.host in hosts and hosts[job.host].up:
            plan.reattach.append(job)
        else:
            plan.requeue.append(job)
    return plan


def merge_by_seq(whole: list[Job], records: list[Queued]) -> list[Job | Queued]:
    """Queued jobs read whole (rows from before records) and as records, oldest first."""
    merged: list[Job | Queued] = [*whole, *records]
    return merged if not whole else sorted(merged, key=lambda j: j.seq)


async def recover(
    store: JobStore,
    hosts: HostPool,
    ledger: Ledger,
    runs: Runs,
    delivery: Deliveries,
    spawn: Spawn,
) -> None:
    """Take up the unfinished jobs in `store` as `plan_recovery` sorts them."""
    queued = await store.queued()  # as records: read whole when each starts
    plan = plan_recovery(await store.unfinished(), hosts)
    for job in plan.queue + plan.requeue + plan.reattach + plan.deliver:
        ledger.track(job)
    for record in queued:
        ledger.track(record)
    for one in merge_by_seq(plan.queue, queued):
        ledger.push(one)
    for job in plan.requeue:
        # The run was cut short by the restart, not by its host: it does not count.
        job.attempts = max(0, job.attempts - 1)
        await store.update(job, "attempts")
        why = "its host is not available" if job.prompt_id else "it had not been submitted"
        await ledger.requeue(job, f"{why} after a restart")
    for job in plan.reattach:
        assert job.host is not None
        runs.start(job, hosts[job.host], reattach=True)
    for job in plan.deliver:
        spawn(delivery.redeliver(job), f"redeliver-{job.id}")
    if queued or plan.queue or plan.requeue or plan.reattach or plan.deliver:
        log.warning(
            "recovered %d queued, %d requeued, %d re-attached, %d to deliver",
            len(plan.queue) + len(queued),
            len(plan.requeue),
            len(plan.reattach),
            len(plan.deliver),
        )
