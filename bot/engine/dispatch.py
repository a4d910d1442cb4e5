"""Dispatching: whenever something may let a job start (a submit, a finished job, a host coming
up), give every free host the job the fair scheduler picks for it, then tell queued users
their new places and upload the next jobs' inputs ahead.

One task sleeps on an `asyncio.Event` (`wake`) and is woken by whatever can let a job start,
so a freed host gets its next job at once: there is no polling interval.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.config import Queue
from bot.engine.hosts import HostPool
from bot.engine.ledger import Ledger
from bot.engine.positions import Board
from bot.engine.prefetch import Prefetch
from bot.engine.runs import Runs
from bot.engine.scheduler import FairQueue, select

log = logging.getLogger(__name__)


class Dispatcher:
    """Starts queued jobs on free hosts each time `wake` is set (`Engine` runs one)."""

    def __init__(
        self,
        queue: FairQueue,
        hosts: HostPool,
        ledger: Ledger,
        board: Board,
        limits: Queue,
        wake: asyncio.Event,
    ) -> None:
        self._queue = queue
        self._hosts = hosts
        self._ledger = ledger
        self._board = board
        self._limits = limits
        self._admins = frozenset(limits.admins)
        self._wake = wake
        self._task: asyncio.Task[None] | None = None
        self._announce_pending = False
        self._runs: Runs | None = None
        self._prefetch: Prefetch | None = None

    def bind(self, runs: Runs, prefetch: Prefetch) -> None:
        """The runs it starts jobs through and the uploads ahead it plans (they need
        `eligible` first, so they are made after the dispatcher)."""
        self._runs, self._prefetch = runs, prefetch

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="dispatcher")
            self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def eligible(self, user: str) -> bool:
        """May `user` start one more job now (the per-user running cap; admins have none)."""
        running = self._runs.running_for(user) if self._runs is not None else 0
        return user in self._admins or running < self._limits.max_running_per_user

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                self._dispatch()
            except Exception:
                log.exception("dispatch failed")

    def _dispatch(self) -> None:
        assert self._runs is not None and self._prefetch is not None, "bind() first"
        started = False
        now = time.time()
        while len(self._queue):
            choice = select(
                self._queue,
                self._hosts.slots(),
                now=now,
                affinity_max_wait=self._limits.affinity_max_wait,
                eligible=self.eligible,
            )
            if choice is None:
                break
            entry, slot = choice
            self._queue.take(entry.job_id)
            self._runs.start(self._ledger[entry.job_id], self._hosts[slot.host], reattach=False)
            started = True
        if started:
            self._schedule_announce()
        self._prefetch.plan(self._hosts.hosts.values(), self._runs.jobs())

    def _schedule_announce(self) -> None:
        if not self._announce_pending:
            self._announce_pending = True
            asyncio.get_running_loop().call_soon(self._announce_positions)

    def _announce_positions(self) -> None:
        """Tell queued users their new place when it moved enough to be worth a message."""
        self._announce_pending = False
        for job_id, event in self._board.changes():
            if self._ledger.emit(self._ledger[job_id], event):
                self._board.announced(job_id, event.position)
