"""The job store's one interface: persistent jobs, measured speeds and engine settings.

`JobStore.open(database)` opens the store `[storage] database` names: a SQLite file
(`bot.engine.store_sqlite`, the embedded default) or a PostgreSQL URL
(`bot.engine.store_pg`). The engine only sees this class; every query below is written once,
in SQL both dialects speak, with `?` for each parameter. Every state change of a job is
committed before the engine acts on it, so a crash at any point leaves a row that says what to
do next (see `bot.engine.recovery`). Migrations are the files
`bot/engine/migrations/NNNN_name.sql`, applied in order; where a dialect needs its own SQL, a
file `NNNN_name.pg.sql` (PostgreSQL) takes the place of the shared one.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

from bot.dburl import PostgresUrl
from bot.engine.jobs import ACTIVE, Job, JobStatus
from bot.engine.rows import (
    INSERT_COLUMNS,
    QUEUED_COLUMNS,
    Row,
    column_value,
    insert_values,
    job_from_row,
    queued_from_row,
)
from bot.engine.slim import Queued, Shared
from bot.request import Mode

# Columns the engine may change after a job was added.
UPDATABLE = frozenset(
    {
        "status",
        "host",
        "prompt_id",
        "progress",
        "progress_step",
        "progress_steps",
        "attempts",
        "error",
        "started_at",
        "finished_at",
        "output",
        "gpu_seconds",
        "delivered",
        "workflow",
        "request",
        "clips",
    }
)
# Columns whose change acts on a job for the world (a prompt id committed before the host gets
# it, a cancel, a delivery): with several processes, only the leader may write them.
FENCED = frozenset({"status", "prompt_id", "delivered"})
# Weight of a new measurement in the running average of seconds per frame.
SPEED_WEIGHT = 0.3
Dialect = Literal["sqlite", "postgresql"]
# The file suffix of a migration written for one dialect only.
DIALECT_SUFFIX = {"sqlite": ".sqlite.sql", "postgresql": ".pg.sql"}


def migrations(dialect: Dialect = "sqlite") -> list[tuple[int, str, str]]:
    """(number, name, SQL) of every migration for `dialect`, in order."""
    own = DIALECT_SUFFIX[dialect]
    others = tuple(s for d, s in DIALECT_SUFFIX.items() if d != dialect)
    found: dict[int, tuple[str, str]] = {}
    for entry in resources.files("bot.engine").joinpath("migrations").iterdir():
        name = entry.name
        if not (name.endswith(".sql") and name[:4].isdigit()) or name.endswith(others):
            continue
        # The dialect's own file wins over the shared one of the same number.
        if name.endswith(own) or int(name[:4]) not in found:
            found[int(name[:4])] = (name, entry.read_text(encoding="utf-8"))
    numbers = sorted(found)
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, ... without gaps: {numbers}")
    return [(n, *found[n]) for n in numbers]


def statements(sql: str) -> list[str]:
    """The statements of a migration file, comments removed."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


class Fence(Protocol):
    """The lease a leader's fenced writes check (`bot.engine.lease.Lease`)."""

    @property
    def generation(self) -> int | None: ...

    def lose(self, why: str) -> None: ...


class JobStore(ABC):
    """Persistent jobs and measured speeds. Open with `await JobStore.open(database)`."""

    @classmethod
    async def open(cls, database: Path | PostgresUrl) -> JobStore:
        """Open the store `database` names (creating it if needed) with its schema up to date;
        `StorageError` saying what is wrong when it cannot be opened or is not WanBot's."""
        if isinstance(database, PostgresUrl):
            from bot.engine.store_pg import PostgresStore

            return await PostgresStore.connect(database)
        from bot.engine.store_sqlite import SqliteStore

        return await SqliteStore.connect(database)

    @abstractmethod
    async def close(self) -> None:
        """Close the connection; the store is not used after."""

    @abstractmethod
    async def schema_version(self) -> int:
        """The number of the last migration applied."""

    @abstractmethod
    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement (`?` for each parameter) and return the rows it gives."""

    @abstractmethod
    async def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run and commit one statement (`?` for each parameter)."""

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    # -- jobs -------------------------------------------------------------------------------

    async def add(self, job: Job) -> Job:
        """Insert a new job; sets `job.seq` (its place in FIFO order)."""
        await self.add_all([job])
        return job

    async def add_all(self, jobs: Sequence[Job]) -> None:
        """Insert new jobs in one statement (all of them or none); sets each `job.seq`."""
        row = f"({', '.join('?' * (INSERT_COLUMNS.count(',') + 1))})"
        values = [value for job in jobs for value in insert_values(job)]
        rows = await self._rows(
            f"INSERT INTO jobs ({INSERT_COLUMNS}) "
            f"VALUES {', '.join([row] * len(jobs))} RETURNING id, seq",
            values,
        )
        seqs = {str(r["id"]): int(r["seq"]) for r in rows}
        for job in jobs:
            job.seq = seqs[job.id]

    async def update(self, job: Job, *fields: str) -> None:
        """Commit the named attributes of `job` (already changed in memory)."""
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = [column_value(name, getattr(job, name)) for name in fields]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        sql, params = f"UPDATE jobs SET {assignments} WHERE id = ?", (*values, job.id)
        if FENCED.intersection(fields):
            await self._fenced(sql, params)
        else:
            await self._run(sql, params)

    def fence_with(self, fence: Fence) -> None:
        """From now on, write `FENCED` columns only while `fence` (this process's lease) is
        the leader's; the database checks it in the same statement (PostgreSQL). A SQLite file
        has one process (its serve lock): nothing to check."""
        return

    async def check_leading(self) -> None:
        """Raise `LostLeadership` unless this process still leads (always, on SQLite): asked
        before what no transaction can cover, such as handing a video to a front end."""
        return

    async def leader(self) -> str | None:
        """Which process leads on this database (hostname:pid), or None: no lease is held,
        or the database is a SQLite file (one process)."""
        return None

    async def _fenced(self, sql: str, params: Sequence[Any]) -> None:
        """Run `sql`, an UPDATE ending in its WHERE clause, only while this process leads."""
        await self._run(sql, params)

    async def get(self, job_id: str) -> Job | None:
        """The job with id `job_id`, or None."""
        row = await self._one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else job_from_row(row)

    async def active(self) -> list[Job]:
        """Every queued, running or delivering job, oldest first."""
        return await self._select(
            "WHERE status IN (?, ?, ?) ORDER BY seq", [s.value for s in ACTIVE]
        )

    async def queued(self, chunk: int = 5000) -> list[Queued]:
        """Every queued job as its `Queued` record, oldest first; read `chunk` rows at a time
        (rows and records are not held all at once). Rows stored before these records existed
        (no `work`) are not among them: `unfinished` reads those in full."""
        out: list[Queued] = []
        shared = Shared()
        last = -1
        while True:
            rows = await self._rows(
                f"SELECT {QUEUED_COLUMNS} FROM jobs WHERE status = ? AND seq > ? "
                "AND work IS NOT NULL ORDER BY seq LIMIT ?",
                (JobStatus.QUEUED.value, last, chunk),
            )
            out.extend(queued_from_row(row, shared) for row in rows)
            if len(rows) < chunk:
                return out
            last = out[-1].seq

    async def unfinished(self) -> list[Job]:
        """In full, oldest first: the running and delivering jobs, and the queued ones that
        `queued` leaves out (stored before `Queued` records existed)."""
        return await self._select(
            "WHERE status IN (?, ?) OR (status = ? AND work IS NULL) ORDER BY seq",
            [JobStatus.RUNNING.value, JobStatus.DELIVERING.value, JobStatus.QUEUED.value],
        )

    async def recent(self, limit: int = 50) -> list[Job]:
        """Active jobs and the `limit` most recently created others, oldest first."""
        marks = ", ".join("?" for _ in ACTIVE)
        return await self._select(
            f"WHERE status IN ({marks}) OR seq IN "
            f"(SELECT seq FROM jobs ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            [*(s.value for s in ACTIVE), limit],
        )

    async def for_user(self, platform: str, user_id: str, limit: int = 20) -> list[Job]:
        """A user's newest jobs, newest first."""
        return await self._select(
            "WHERE platform = ? AND user_id = ? ORDER BY seq DESC LIMIT ?",
            [platform, user_id, limit],
        )

    async def usage_since(
        self, platform: str, user_id: str, since: float
    ) -> list[tuple[float, str, float | None]]:
        """(created_at, status, gpu_seconds) of the user's jobs accepted since `since`."""
        rows = await self._rows(
            "SELECT created_at, status, gpu_seconds FROM jobs "
            "WHERE platform = ? AND user_id = ? AND created_at >= ? ORDER BY created_at",
            (platform, user_id, since),
        )
        return [
            (float(r["created_at"]), str(r["status"]), _float_or_none(r["gpu_seconds"]))
            for r in rows
        ]

    async def counts(self) -> dict[tuple[str, str], int]:
        """How many jobs there are of each (status, mode)."""
        rows = await self._rows(
            "SELECT status, mode, COUNT(*) AS n FROM jobs GROUP BY status, mode"
        )
        return {(str(r["status"]), str(r["mode"])): int(r["n"]) for r in rows}

    async def count(self, status: JobStatus) -> int:
        """How many jobs have `status`."""
        row = await self._one("SELECT COUNT(*) AS n FROM jobs WHERE status = ?", (status.value,))
        return int(row["n"]) if row else 0

    async def ended_between(self, start: float, end: float) -> list[tuple[str, float]]:
        """(id, end time) of done, failed and cancelled jobs that ended in [start, end)."""
        marks = ", ".join("?" for _ in ACTIVE)
        ended = "COALESCE(finished_at, created_at)"
        rows = await self._rows(
            f"""SELECT id, {ended} AS ended FROM jobs
                WHERE status NOT IN ({marks}) AND {ended} >= ? AND {ended} < ?
                ORDER BY ended""",
            (*(s.value for s in ACTIVE), start, end),
        )
        return [(str(row["id"]), float(row["ended"])) for row in rows]

    async def _select(self, where: str, params: Iterable[Any]) -> list[Job]:
        rows = await self._rows(f"SELECT * FROM jobs {where}", tuple(params))
        return [job_from_row(row) for row in rows]

    # -- speeds -----------------------------------------------------------------------------

    async def record_speed(self, host: str, mode: Mode, seconds_per_unit: float) -> float:
        """Fold one measurement (seconds per unit of work, see `eta`) into the host's running
        average for `mode`; returns it."""
        speeds = await self.speeds()
        old = speeds.get((host, mode))
        new = seconds_per_unit if old is None else old + SPEED_WEIGHT * (seconds_per_unit - old)
        await self._run(
            """INSERT INTO speeds (host, mode, seconds_per_unit, samples, updated_at)
               VALUES (?, ?, ?, 1, ?)
               ON CONFLICT (host, mode) DO UPDATE SET
                   seconds_per_unit = excluded.seconds_per_unit,
                   samples = speeds.samples + 1,
                   updated_at = excluded.updated_at""",
            (host, mode.value, new, time.time()),
        )
        return new

    async def speeds(self) -> dict[tuple[str, Mode], float]:
        """Each host's running average of seconds per unit of work, by mode."""
        rows = await self._rows("SELECT host, mode, seconds_per_unit FROM speeds")
        return {(r["host"], Mode(r["mode"])): float(r["seconds_per_unit"]) for r in rows}

    # -- meta -------------------------------------------------------------------------------

    async def meta(self, key: str) -> str | None:
        """A value the engine keeps between runs, or None if never set."""
        row = await self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set_meta(self, key: str, value: str) -> None:
        """Keep `value` under `key` (replacing what was there)."""
        await self._run(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def client_id(self) -> str:
        """This bot's stable ComfyUI client id, so a restarted engine gets its prompts' events."""
        known = await self.meta("client_id")
        if known is not None:
            return known
        value = f"wanbot-{uuid.uuid4().hex}"
        await self._run(
            "INSERT INTO meta (key, value) VALUES ('client_id', ?) ON CONFLICT (key) DO NOTHING",
            (value,),
        )
        return await self.client_id()


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
