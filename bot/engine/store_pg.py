"""The job store in a PostgreSQL database through psycopg 3 (async, libpq).

The same tables and queries as SQLite (see `bot.engine.store`); the table `schema_version`
records the last migration applied, and migrations run under an advisory lock, so processes
starting together on one database apply each one once. libpq finds the password itself
(`PGPASSWORD`, or `~/.pgpass` / `PGPASSFILE`); no message shows it. With several processes, the
writes that act on a job are fenced by this process's lease (`bot.engine.lease`).

A connection lost under the store (the server restarted, a network cut) is made again, waiting up
to `RECONNECT_FOR` seconds for the server to come back, so the engine goes on where it was. A
statement cut off by the loss is run again on the new connection when running it twice has the
same effect (reads, UPDATEs that set values); any other (a new job's INSERT) fails, since
whether it took effect is unknown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bot.dburl import PostgresUrl, hide_password
from bot.engine.rows import Row
from bot.engine.store import Fence, JobStore, migrations, statements
from bot.errors import LostLeadership, StorageError

log = logging.getLogger(__name__)

# Advisory lock key (64-bit, per database) for migrations: "wanbot" in ASCII.
MIGRATION_LOCK = 0x77616E626F74
# Who holds an unexpired lease (see `bot.engine.lease`).
LEADER = "SELECT holder FROM leadership WHERE id = 1 AND expires_at > now()"
# This process's lease, still current: a fenced write's condition. FOR SHARE: a standby's
# takeover (an UPDATE of that row) waits until the write is committed, and a write that
# comes after the takeover sees the new generation.
STILL_LEADING = (
    "SELECT 1 FROM leadership WHERE id = 1 AND generation = ? AND expires_at > now() FOR SHARE"
)
# Statements that may run twice with the same effect: reads, and UPDATEs that set values.
AGAIN = ("SELECT", "UPDATE", "WITH fence")
LOST = (
    "Another process leads on this database now (this one's lease expired); "
    "it stops acting on jobs."
)
CONNECT_TIMEOUT = 10  # seconds: a host that does not answer is reported, not waited on
RECONNECT_FOR = 60.0  # seconds a lost server is waited for before a statement fails
RECONNECT_PAUSE = (0.1, 2.0)  # the first and the longest pause between tries
Connection = psycopg.AsyncConnection[dict[str, Any]]


async def connect(url: PostgresUrl) -> Connection:
    """An autocommit connection to `url`, or `StorageError` saying what is wrong (without the
    password, wherever libpq took it from)."""
    try:
        return await psycopg.AsyncConnection.connect(
            url.url,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=CONNECT_TIMEOUT,
            application_name="wanbot",
        )
    except psycopg.Error as exc:
        raise StorageError(
            f"Cannot connect to the database {hide_password(url.url)}: {shown(exc)}. Check the "
            "URL ([storage] database), that the server runs, and the password (PGPASSWORD or a "
            "password file)."
        ) from None


def shown(exc: psycopg.Error) -> str:
    """libpq's message for `exc` on one line, with any password in it replaced."""
    text = " ".join(str(exc).split())
    password = os.environ.get("PGPASSWORD")
    if password:
        text = text.replace(password, "[redacted]")
    return hide_password(text)


class PostgresStore(JobStore):
    """`JobStore` on a PostgreSQL database; open with `await JobStore.open(url)`."""

    def __init__(self, db: Connection, url: PostgresUrl) -> None:
        self._db = db
        self.url = url
        self.reconnect_for = RECONNECT_FOR
        self._fence: Fence | None = None

    @classmethod
    async def connect(cls, url: PostgresUrl) -> PostgresStore:
        """Connect to `url` and bring the schema up to date; `StorageError` when it fails."""
        db = await connect(url)
        store = cls(db, url)
        try:
            await store._migrate()
        except psycopg.Error as exc:
            await db.close()
            raise StorageError(
                f"Cannot set up the database {hide_password(url.url)}: {shown(exc)}. Check that "
                "this user may create tables there and that it is WanBot's."
            ) from None
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        for number, _name, sql in migrations("postgresql"):
            async with self._db.transaction():
                # Another process may be migrating: wait for it, then look again.
                await self._db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                await self._db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                )
                if number <= await self.schema_version():
                    continue
                for statement in statements(sql):
                    await self._db.execute(statement.encode())  # no parameters: `%` is literal
                await self._db.execute("DELETE FROM schema_version")
                await self._db.execute("INSERT INTO schema_version VALUES (%s)", (number,))

    async def schema_version(self) -> int:
        cursor = await self._db.execute(
            "SELECT version FROM schema_version"
            if await self._has_versions()
            else "SELECT 0 AS version"
        )
        row = await cursor.fetchone()
        return int(row["version"]) if row else 0

    async def _has_versions(self) -> bool:
        cursor = await self._db.execute("SELECT to_regclass('schema_version') IS NOT NULL AS ok")
        row = await cursor.fetchone()
        return bool(row and row["ok"])

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        # Shielded: a caller cancelled mid-query must not leave the connection mid-protocol;
        # the statement completes (as it would in SQLite's worker thread).
        return await asyncio.shield(self._fetch(_placeholders(sql), tuple(params)))

    async def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[Row]:
        give_up = time.monotonic() + self.reconnect_for
        pause = RECONNECT_PAUSE[0]
        while True:
            sent = False
            try:
                if self._db.closed or self._db.broken:
                    await self._reconnect()
                sent = True
                cursor = await self._db.execute(sql.encode(), params)
                if cursor.description is None:  # a statement without rows
                    return []
                return list(await cursor.fetchall())
            except (psycopg.OperationalError, StorageError) as exc:
                if not self._db.closed and not self._db.broken:
                    raise  # the connection is fine: the statement itself failed
                if sent and not sql.lstrip().startswith(AGAIN):
                    raise  # cut off under it: whether it took effect is unknown
                if time.monotonic() + pause > give_up:
                    raise StorageError(
                        f"Lost the database {hide_password(self.url.url)} and could not connect "
                        f"again within {self.reconnect_for:g} s: {_why(exc)}"
                    ) from None
                log.warning("database connection lost (%s); connecting again", _why(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, RECONNECT_PAUSE[1])

    async def _reconnect(self) -> None:
        """A new connection in place of the lost one (`StorageError` while the server is away)."""
        lost, self._db = self._db, await connect(self.url)
        await lost.close()
        log.info("connected to the database again")

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._rows(sql, params)

    def fence_with(self, fence: Fence) -> None:
        self._fence = fence

    async def check_leading(self) -> None:
        if self._fence is not None and not await self._rows(STILL_LEADING, self._generation()):
            self._lost()

    async def leader(self) -> str | None:
        row = await self._one(LEADER)
        return None if row is None else str(row["holder"])

    async def _fenced(self, sql: str, params: Sequence[Any]) -> None:
        if self._fence is None:  # not `serve` (a CLI command, a test's engine): no leases
            await self._run(sql, params)
            return
        # One statement, so the check and the write are one transaction on the server.
        rows = await self._rows(
            f"WITH fence AS ({STILL_LEADING}), "
            f"changed AS ({sql} AND EXISTS (SELECT 1 FROM fence) RETURNING 1) "
            "SELECT EXISTS (SELECT 1 FROM fence) AS leading",
            (*self._generation(), *params),
        )
        if not rows[0]["leading"]:
            self._lost()

    def _generation(self) -> tuple[int]:
        assert self._fence is not None and self._fence.generation is not None
        return (self._fence.generation,)

    def _lost(self) -> None:
        assert self._fence is not None
        self._fence.lose("a write found that another process leads now")
        raise LostLeadership(LOST)


def _why(exc: Exception) -> str:
    return shown(exc) if isinstance(exc, psycopg.Error) else str(exc)


def _placeholders(sql: str) -> str:
    """`sql` with psycopg's `%s` for each `?` (the shared queries hold no other `?` or `%`)."""
    return sql.replace("%", "%%").replace("?", "%s")
