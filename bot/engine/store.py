"""The job store: SQLite (WAL) through aiosqlite, with numbered migrations.

Every state change of a job is committed before the engine acts on it, so a crash at any
point leaves a row that says what to do next (see `bot.engine.recovery`). Migrations are the files
`bot/engine/migrations/NNNN_name.sql`, applied in order; `PRAGMA user_version` records the last one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.chain import ClipMade
from bot.engine.jobs import ACTIVE, Batch, Job, JobStatus
from bot.errors import StorageError
from bot.request import FileSet, JobRequest, Mode

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
# Weight of a new measurement in the running average of seconds per frame.
SPEED_WEIGHT = 0.3


def migrations() -> list[tuple[int, str, str]]:
    """(number, name, SQL) of every migration file, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("bot.engine").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, ... without gaps: {numbers}")
    return found


class JobStore:
    """Persistent jobs and measured speeds. Open with `await JobStore.open(path)`."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> JobStore:
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
    async def _open(cls, path: Path) -> JobStore:
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
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        for number, _name, sql in migrations():
            if number <= version:
                continue
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(sql):
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

    # -- jobs -------------------------------------------------------------------------------

    async def add(self, job: Job) -> Job:
        """Insert a new job; sets `job.seq` (its place in FIFO order)."""
        await self.add_all([job])
        return job

    async def add_all(self, jobs: Sequence[Job]) -> None:
        """Insert new jobs in one statement (all of them or none); sets each `job.seq`."""
        row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        values = [
            value
            for job in jobs
            for value in (
                job.id,
                job.platform,
                job.user_id,
                job.chat_id,
                json.dumps(job.reply_target),
                job.mode.value,
                job.request.model_dump_json(),
                _files_json(job.files),
                str(job.work_dir),
                job.status.value,
                job.attempts,
                job.created_at,
                None if job.batch is None else json.dumps(dataclasses.astuple(job.batch)),
            )
        ]
        async with self._db.execute(
            f"""INSERT INTO jobs (id, platform, user_id, chat_id, reply_target, mode, request,
                   files, work_dir, status, attempts, created_at, batch)
                VALUES {", ".join([row] * len(jobs))} RETURNING id, seq""",
            values,
        ) as cursor:
            seqs = {str(r[0]): int(r[1]) for r in await cursor.fetchall()}
        for job in jobs:
            job.seq = seqs[job.id]

    async def update(self, job: Job, *fields: str) -> None:
        """Commit the named attributes of `job` (already changed in memory)."""
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = [_column_value(name, getattr(job, name)) for name in fields]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self._db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values, job.id))

    async def get(self, job_id: str) -> Job | None:
        async with self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _job(row)

    async def active(self) -> list[Job]:
        """Every queued, running or delivering job, oldest first."""
        return await self._select(
            "WHERE status IN (?, ?, ?) ORDER BY seq", [s.value for s in ACTIVE]
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
        async with self._db.execute(
            "SELECT created_at, status, gpu_seconds FROM jobs "
            "WHERE platform = ? AND user_id = ? AND created_at >= ? ORDER BY created_at",
            (platform, user_id, since),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(float(r[0]), str(r[1]), None if r[2] is None else float(r[2])) for r in rows]

    async def counts(self) -> dict[tuple[str, str], int]:
        """How many jobs there are of each (status, mode)."""
        async with self._db.execute(
            "SELECT status, mode, COUNT(*) FROM jobs GROUP BY status, mode"
        ) as cursor:
            rows = await cursor.fetchall()
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}

    async def count(self, status: JobStatus) -> int:
        async with self._db.execute(
            "SELECT COUNT(*) FROM jobs WHERE status = ?", (status.value,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def ended_between(self, start: float, end: float) -> list[tuple[str, float]]:
        """(id, end time) of done, failed and cancelled jobs that ended in [start, end)."""
        marks = ", ".join("?" for _ in ACTIVE)
        async with self._db.execute(
            f"""SELECT id, COALESCE(finished_at, created_at) AS ended FROM jobs
                WHERE status NOT IN ({marks}) AND ended >= ? AND ended < ?
                ORDER BY ended""",
            (*(s.value for s in ACTIVE), start, end),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(str(row[0]), float(row[1])) for row in rows]

    async def _select(self, where: str, params: Iterable[Any]) -> list[Job]:
        async with self._db.execute(f"SELECT * FROM jobs {where}", tuple(params)) as cursor:
            rows = await cursor.fetchall()
        return [_job(row) for row in rows]

    # -- speeds -----------------------------------------------------------------------------

    async def record_speed(self, host: str, mode: Mode, seconds_per_unit: float) -> float:
        """Fold one measurement (seconds per unit of work, see `eta`) into the host's running
        average for `mode`; returns it."""
        speeds = await self.speeds()
        old = speeds.get((host, mode))
        new = seconds_per_unit if old is None else old + SPEED_WEIGHT * (seconds_per_unit - old)
        await self._db.execute(
            """INSERT INTO speeds (host, mode, seconds_per_unit, samples, updated_at)
               VALUES (?, ?, ?, 1, ?)
               ON CONFLICT (host, mode) DO UPDATE SET
                   seconds_per_unit = excluded.seconds_per_unit,
                   samples = samples + 1,
                   updated_at = excluded.updated_at""",
            (host, mode.value, new, time.time()),
        )
        return new

    async def speeds(self) -> dict[tuple[str, Mode], float]:
        async with self._db.execute("SELECT host, mode, seconds_per_unit FROM speeds") as cursor:
            rows = await cursor.fetchall()
        return {(row[0], Mode(row[1])): float(row[2]) for row in rows}

    # -- meta -------------------------------------------------------------------------------

    async def meta(self, key: str) -> str | None:
        """A value the engine keeps between runs, or None if never set."""
        async with self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def client_id(self) -> str:
        """This bot's stable ComfyUI client id, so a restarted engine gets its prompts' events."""
        async with self._db.execute("SELECT value FROM meta WHERE key = 'client_id'") as cursor:
            row = await cursor.fetchone()
        if row is not None:
            return str(row[0])
        value = f"wanbot-{uuid.uuid4().hex}"
        await self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('client_id', ?)", (value,)
        )
        return await self.client_id()


def _statements(sql: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _files_json(files: FileSet[Path]) -> str:
    text: str = files.model_dump_json()
    return text


def _files(text: str) -> FileSet[Path]:
    """A job's prepared files; rows written before the one file-set type name the clips
    `pose_video` and `face_video`."""
    data = json.loads(text)
    for old, new in (("pose_video", "pose"), ("face_video", "face")):
        if old in data:
            clip = data.pop(old)
            data[new] = [] if clip is None else [clip]
    return FileSet[Path].model_validate(data)


def _column_value(name: str, value: Any) -> Any:
    if name == "workflow":
        return json.dumps(value) if value else None
    if name == "request":
        return value.model_dump_json()
    if name == "clips":
        return json.dumps([clip.as_dict() for clip in value]) if value else None
    if isinstance(value, JobStatus):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _job(row: aiosqlite.Row) -> Job:
    return Job(
        id=row["id"],
        seq=row["seq"],
        platform=row["platform"],
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        reply_target=json.loads(row["reply_target"]),
        request=JobRequest.model_validate_json(row["request"]),
        files=_files(row["files"]),
        work_dir=Path(row["work_dir"]),
        status=JobStatus(row["status"]),
        host=row["host"],
        prompt_id=row["prompt_id"],
        progress=row["progress"],
        progress_step=row["progress_step"],
        progress_steps=row["progress_steps"],
        attempts=row["attempts"],
        error=row["error"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        output=None if row["output"] is None else Path(row["output"]),
        gpu_seconds=row["gpu_seconds"],
        delivered=bool(row["delivered"]),
        workflow=json.loads(row["workflow"]) if row["workflow"] else {},
        batch=Batch(*json.loads(row["batch"])) if row["batch"] else None,
        clips=[ClipMade(**clip) for clip in json.loads(row["clips"])] if row["clips"] else [],
    )
