"""Taking jobs in: a request is admitted before any of its files is fetched, its jobs' files
are prepared, and then all of them are stored and queued in one step, or none is.

Admission decides everything that needs no file (blocked users, a draining bot, the caps and
the quota) and holds the request's jobs against the caps and the quota with a `Ticket`, so
requests that arrive together cannot all pass. Storing and queueing are shielded from
cancellation together: a job is either in the store and the live queue, or in neither.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from bot.config import Config
from bot.engine.admin import Admin
from bot.engine.admission import Ticket, check_caps, job_count
from bot.engine.jobs import Batch, Job, new_job_id
from bot.engine.ledger import Ledger
from bot.engine.positions import Board
from bot.engine.quotas import Quotas
from bot.engine.scheduler import FairQueue
from bot.engine.store import JobStore
from bot.errors import UserError
from bot.intake import PreparedJob
from bot.request import Sender

log = logging.getLogger(__name__)
T = TypeVar("T")

Prepare = Callable[[Path], Awaitable[PreparedJob]]


class Work(NamedTuple):
    """One job to make: where it answers (the front end's reply target), how its files are
    made, and its place in a batch if it is one of several."""

    target: dict[str, Any]
    prepare: Prepare
    batch: Batch | None = None


class Acceptance:
    """Admission, preparation and the atomic commit of new jobs (`Engine` uses one)."""

    def __init__(
        self,
        config: Config,
        store: JobStore,
        queue: FairQueue,
        ledger: Ledger,
        board: Board,
        admin: Admin,
        quotas: Quotas,
        wake: asyncio.Event,
    ) -> None:
        self._config = config
        self._store = store
        self._queue = queue
        self._ledger = ledger
        self._board = board
        self._admin = admin
        self._quotas = quotas
        self._wake = wake
        self._admins = frozenset(config.queue.admins)
        # Jobs of requests admitted but not yet queued, per user: they count against the caps.
        self._reserved: Counter[str] = Counter()

    def is_admin(self, sender: Sender) -> bool:
        """The front end's decision (ids or roles), or an id in `queue.admins`."""
        return sender.admin or sender.user in self._admins

    @asynccontextmanager
    async def admit(
        self, sender: Sender, overrides: Sequence[Mapping[str, Any]]
    ) -> AsyncIterator[Ticket]:
        """Hold the jobs these requests make (one per `--batch`) for `sender`, or raise the
        `UserError` that refuses them; the hold ends with the block unless `accept` queued
        them. Every `UserError`, here or in the block, is counted as a refusal."""
        try:
            ticket = await self._hold(sender, job_count(overrides, self._config.limits))
            try:
                yield ticket
            finally:
                if not ticket.handed:
                    self._close(ticket, stored=False)
        except UserError as exc:
            self._ledger.refused(exc)
            raise

    async def _hold(self, sender: Sender, count: int) -> Ticket:
        user = sender.user
        admin = self.is_admin(sender)
        self._admin.refuse_barred(user)
        # The quota first (it says when to try again), then the caps, checked and held in one
        # step with nothing awaited between.
        await self._quotas.reserve(sender.platform, sender.user_id, count, exempt=admin)
        try:
            if not admin:
                check_caps(self._queue, self._reserved, self._config.queue, user, count)
        except BaseException:
            self._quotas.release(sender.platform, sender.user_id, count, stored=False)
            raise
        self._reserved[user] += count
        return Ticket(sender, count, admin)

    def _close(self, ticket: Ticket, *, stored: bool) -> None:
        if not ticket.open:
            return
        ticket.open = False
        sender = ticket.sender
        self._unreserve(sender.user, ticket.count)
        self._quotas.release(sender.platform, sender.user_id, ticket.count, stored=stored)

    def _unreserve(self, user: str, count: int) -> None:
        self._reserved[user] -= count
        if self._reserved[user] <= 0:
            del self._reserved[user]

    async def accept(self, ticket: Ticket, work: Sequence[Work]) -> list[Job]:
        """Prepare every job's files, then store and queue all of them; on any error none is
        queued and the prepared files are removed."""
        if not ticket.open or ticket.handed:
            raise RuntimeError("this ticket was already used")
        if len(work) != ticket.count:
            raise ValueError(f"the ticket holds {ticket.count} jobs, not {len(work)}")
        jobs: list[Job] = []
        try:
            for one in work:
                jobs.append(await self._prepared(ticket.sender, one))
        except BaseException:
            await _remove_folders(jobs)
            raise
        ticket.handed = True
        # A cancel from here on (a handler cancelled at shutdown) lets the commit finish
        # first, so the store never holds a job that the live queue does not.
        await _to_the_end(self._commit(ticket, jobs))
        return jobs

    async def _prepared(self, sender: Sender, work: Work) -> Job:
        job_id = new_job_id()
        job_dir = self._config.storage.jobs / job_id
        try:
            # Its threads (copies, decoding) cannot be stopped and may still write: on a
            # cancel the preparation ends first, then what it wrote is removed.
            prepared = await _to_the_end(work.prepare(job_dir))
        except asyncio.CancelledError:
            await asyncio.to_thread(shutil.rmtree, job_dir, True)
            raise
        return Job(
            id=job_id,
            platform=sender.platform,
            user_id=sender.user_id,
            chat_id=sender.chat_id,
            reply_target=work.target,
            batch=work.batch,
            request=prepared.request,
            files=prepared.files,
            work_dir=job_dir,
            created_at=time.time(),
        )

    async def _commit(self, ticket: Ticket, jobs: list[Job]) -> None:
        try:
            await self._store.add_all(jobs)
        except BaseException:
            ticket.handed = False
            self._close(ticket, stored=False)
            await _remove_folders(jobs)
            raise
        # Nothing is awaited from here on: the queue takes the jobs over from the hold in the
        # same step, so they are never counted twice or not at all.
        self._close(ticket, stored=True)
        for job in jobs:
            self._ledger.track_queued(job)  # as its record: see `Ledger.full`
        for job in jobs:
            self._ledger.emit(job, self._board.accepted(job))
        self._wake.set()


async def _to_the_end(step: Awaitable[T]) -> T:
    """Await `step` to its end even when the caller is cancelled meanwhile; the cancel is
    raised once `step` has ended (its own outcome is then dropped)."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved, so it is not reported as lost
        raise


async def _remove_folders(jobs: Sequence[Job]) -> None:
    for job in jobs:
        await asyncio.to_thread(shutil.rmtree, job.work_dir, True)
