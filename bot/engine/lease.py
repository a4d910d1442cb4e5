"""Which `wanbot serve` leads on a PostgreSQL database: a lease row on the server's clock.

One row (`leadership`, migration 0006) says who leads (`holder`, "hostname:pid"), until when
(`expires_at`, always computed by PostgreSQL's `now()`, so the machines' clocks do not matter)
and since which takeover (`generation`). The leader renews the lease every third of
`[queue] failover_seconds`; a standby polls it and takes it over once it has expired, adding
one to `generation` in the same UPDATE. That generation is the fencing token: every write that
acts on a job (a prompt id committed before the host gets it, a cancel, a delivery) checks it
in the same statement (`PostgresStore`), so a leader that lost its lease cannot act any more.

Why a lease and not a session advisory lock: a leader frozen by SIGSTOP (or a long GC pause, a
VM stalled on its host) keeps its TCP connection, so PostgreSQL keeps its advisory lock and no
standby could ever take over; and once it resumes, nothing would tell it that the world moved
on. A lease expires by the clock whatever the holder does, and the generation tells the holder,
at its next write, that it is no longer the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg

from bot.dburl import PostgresUrl
from bot.engine.store_pg import LEADER, Connection, connect
from bot.errors import StorageError

log = logging.getLogger(__name__)

# A standby looks at the lease this often (seconds), or more often for a short failover.
POLL_SECONDS = 1.0


def holder_name() -> str:
    """How this process is named in the lease: hostname:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    """This process's claim on the leadership of one PostgreSQL database.

    `await wait_to_lead()` returns once this process leads (and renews the lease from then
    on); `lost` is set when it no longer does, by a failed renewal or a fenced write.
    """

    def __init__(self, url: PostgresUrl, seconds: float, holder: str | None = None) -> None:
        self.url = url
        self.seconds = seconds
        self.holder = holder or holder_name()
        self.generation: int | None = None  # set while leading
        self.lost = asyncio.Event()
        self.why_lost = ""
        self.renewed = asyncio.Event()  # set at each renewal (clear it to wait for the next)
        self._db: Connection | None = None
        self._renewing: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self.generation is not None and not self.lost.is_set()

    async def wait_to_lead(self, on_standby: Callable[[str], None] = lambda leader: None) -> None:
        """Return once this process holds the lease; `on_standby(leader)` is called once if
        another process holds it first."""
        told = False
        while not await self._try_take():
            if not told:
                with contextlib.suppress(psycopg.Error, StorageError):
                    on_standby(await self.leader() or "another process")
                    told = True
            await asyncio.sleep(min(POLL_SECONDS, self.seconds / 4))  # the lease's own pace
        log.info("leading (generation %d)", self.generation)
        self._renewing = asyncio.create_task(self._renew_loop(), name="lease-renewal")

    async def leader(self) -> str | None:
        """Who holds an unexpired lease now (hostname:pid), or None."""
        row = await self._one(LEADER, ())
        return None if row is None else str(row["holder"])

    def lose(self, why: str) -> None:
        """This process is not the leader any more (`why`, for the log): it stops acting."""
        if not self.lost.is_set():
            self.why_lost = why
            log.warning("lost the leadership: %s", why)
            self.lost.set()

    async def close(self) -> None:
        """Stop renewing; a leader that is still one lets its lease go at once, so a standby
        takes over at its next look instead of after `failover_seconds`."""
        if self._renewing is not None:
            self._renewing.cancel()
            await asyncio.gather(self._renewing, return_exceptions=True)
        try:
            if self.leading and self._db is not None:
                await self._db.execute(
                    "UPDATE leadership SET expires_at = now() WHERE id = 1 AND generation = %s",
                    (self.generation,),
                )
        except psycopg.Error as exc:
            log.warning("could not release the lease (it expires by itself): %s", exc)
        finally:
            if self._db is not None:
                await self._db.close()
                self._db = None

    async def _try_take(self) -> bool:
        """Take an expired lease; False when another process holds one, or when the database
        cannot be reached now (a standby keeps waiting through a database restart)."""
        try:
            return await self._take()
        except (psycopg.Error, StorageError) as exc:
            log.warning("standby: cannot look at the lease now: %s", exc)
            return False

    async def _take(self) -> bool:
        row = await self._one(
            """UPDATE leadership SET holder = %s, generation = generation + 1,
                   expires_at = now() + %s
               WHERE id = 1 AND expires_at <= now() RETURNING generation""",
            (self.holder, self._term()),
        )
        if row is None:
            return False
        self.generation = int(row["generation"])
        return True

    async def _renew_loop(self) -> None:
        renewed = time.monotonic()
        while not self.lost.is_set():
            await asyncio.sleep(self.seconds / 3)
            try:
                row = await self._one(
                    """UPDATE leadership SET expires_at = now() + %s
                       WHERE id = 1 AND generation = %s AND expires_at > now()
                       RETURNING generation""",
                    (self._term(), self.generation),
                )
            except (psycopg.Error, StorageError) as exc:
                # The database may come back before the lease ends; after that, it is lost.
                log.warning("could not renew the lease: %s", exc)
                if time.monotonic() - renewed > self.seconds:
                    self.lose("the lease could not be renewed in time")
                continue
            if row is None:
                self.lose("the lease expired before it was renewed (another process may lead)")
                continue
            renewed = time.monotonic()
            self.renewed.set()

    def _term(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    async def _one(self, sql: str, params: tuple[object, ...]) -> dict[str, Any] | None:
        if self._db is None or self._db.closed:
            self._db = await connect(self.url)
        # A connection the server dropped (a restart) is closed: a new one is made here.
        cursor = await self._db.execute(sql, params)
        return await cursor.fetchone()
