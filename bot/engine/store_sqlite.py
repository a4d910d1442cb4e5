"""The job store in a SQLite file (WAL) through aiosqlite: WanBot's embedded default.

`PRAGMA user_version` records the last migration applied. One process serves a SQLite file at
a time (see `bot.engine.lock`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from bot.engine.rows import Row
from bot.engine.store import JobStore, migrations, statements
from bot.errors import StorageError


class SqliteStore(JobStore):
    """`JobStore` on a SQLite file; open with `await JobStore.open(path)`."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def connect(cls, path: Path) -> SqliteStore:
        """Open (creating if needed) the database at `path` and bring its schema up to date;
        `StorageError` saying what is wrong when it cannot be opened or is not a database."""
        try:
            return await cls._open(path)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                fix = "check that its folder exists and this user may write there"
            else:
                fix = (
                    "it is damaged or not WanBot's: move it away (a new one is made) or restore one"
                )
            raise StorageError(f"Cannot open the database {path}: {exc}: {fix}.") from exc
        except OSError as exc:
            raise StorageError(
                f"Cannot open the database {path}: {exc.strerror or exc}: check that its folder "
                "can be made and this user may write there."
            ) from exc

    @classmethod
    async def _open(cls, path: Path) -> SqliteStore:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            # First, so that the statements below wait for a lock instead of failing.
            await db.execute("PRAGMA busy_timeout=5000")
            # WAL: readers never block the writer; NORMAL sync is durable across process
            # crashes (only an OS crash or power loss can lose the last commits).
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            store = cls(db, path)
            await store._migrate()
        except BaseException:
            # An open connection owns a non-daemon thread that would keep the process alive.
            await asyncio.shield(db.close())
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        version = await self.schema_version()
        for number, _name, sql in migrations("sqlite"):
            if number <= version:
                continue
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements(sql):
                    await self._db.execute(statement)
                await self._db.execute(f"PRAGMA user_version = {number}")
                await self._db.execute("COMMIT")
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._db.execute(sql, tuple(params)) as cursor:
            rows: list[Row] = list(await cursor.fetchall())
        return rows

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._db.execute(sql, tuple(params))
