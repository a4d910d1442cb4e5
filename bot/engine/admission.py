"""Before a job is accepted: the caps on what one user and everyone may queue, and the
expansion of one request into its jobs (`--batch N` with consecutive seeds, one job per
photo), which share a `Batch` group so a front end can show one card.

A request is admitted before any of its files is fetched: a `Ticket` holds its jobs
against the caps and the quota until they are queued (or refused), so requests that arrive
together cannot all pass. A batch is accepted whole or not at all.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import Limits, Queue
from bot.engine.jobs import Batch
from bot.engine.scheduler import FairQueue
from bot.errors import LimitError
from bot.params import batch_seeds, take_batch
from bot.request import Order, Sender


@dataclass
class Ticket:
    """`count` jobs of `sender` held against the caps and the quota while their files are
    fetched and prepared; `admin` as the front end decided (no caps, no quotas)."""

    sender: Sender
    count: int
    admin: bool
    open: bool = True  # until the jobs are queued or refused
    handed: bool = False  # the commit owns it: only the commit may close it now


def job_count(overrides: Sequence[Mapping[str, object]], limits: Limits) -> int:
    """How many jobs requests with these flags make (`--batch` checked against the limit)."""
    return sum(take_batch(dict(o), limits) for o in overrides)


def check_caps(
    queue: FairQueue,
    reserved: Counter[str],
    limits: Queue,
    user: str,
    count: int = 1,
) -> None:
    """Raise `LimitError` unless `count` more jobs of `user` fit under the caps."""
    mine = queue.queued_for(user) + reserved[user]
    room = limits.max_queued_per_user - mine
    if count > room:
        if count == 1:
            raise LimitError(
                f"You already have {mine} job(s) waiting, the most one person may queue "
                f"({limits.max_queued_per_user}). Wait for one to start, or cancel one."
            )
        raise LimitError(
            f"These {count} jobs do not fit: you have {mine} waiting and may queue "
            f"{limits.max_queued_per_user}, so {max(0, room)} more fit. Send fewer, or wait."
        )
    total = len(queue) + sum(reserved.values())
    if total + count > limits.max_total_queued:
        raise LimitError(
            f"The queue is full: {total} jobs are waiting (limit {limits.max_total_queued}); "
            f"you have {mine} of them. Try again later."
        )


def expand(orders: Sequence[Order], limits: Limits) -> list[tuple[Order, Batch | None]]:
    """One order per job: each order `--batch` times with consecutive seeds. With more than
    one job, each gets its place in the batch (one group id, its index, the size)."""
    jobs: list[Order] = []
    for order in orders:
        overrides = dict(order.ask.overrides)
        count = take_batch(overrides, limits)
        given = overrides.get("seed")
        for seed in batch_seeds(count, None if given is None else int(given)):
            seeded = overrides if seed is None else {**overrides, "seed": seed}
            ask = dataclasses.replace(order.ask, overrides=seeded)
            jobs.append(dataclasses.replace(order, ask=ask))
    if len(jobs) == 1:
        return [(jobs[0], None)]
    group = secrets.token_hex(4)
    return [(o, Batch(group, i, len(jobs))) for i, o in enumerate(jobs)]
