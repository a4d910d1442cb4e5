"""What to do, after a start, with the jobs a previous run left unfinished.

- queued: back in the queue, in their original order;
- running with a prompt on a known, up host: re-attached (followed to the end, or fetched if
  it finished while the bot was down; run again if the host no longer knows it);
- running without a prompt id (it stopped mid-upload) or on a host that is gone or down:
  back in the queue;
- delivering: the front end is asked whether it was already sent; if not, it is sent again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.hosts import HostPool
from bot.jobs import Job, JobStatus


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
