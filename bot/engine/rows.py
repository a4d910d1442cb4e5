"""How a job is written to and read from a row of the `jobs` table, the same in every dialect.

Structured fields (the request, the prepared files, the workflow, the batch, the clips) are
kept as JSON text, so that one row shape serves SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Protocol

from bot.chain import ClipMade
from bot.engine.jobs import Batch, Job, JobStatus
from bot.engine.slim import Queued, Shared, needs_text
from bot.request import FileSet, JobRequest, Mode


class Row(Protocol):
    """A row as the store's dialects return it: its values by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


def insert_values(job: Job) -> tuple[Any, ...]:
    """A new job's values, in the order of `INSERT_COLUMNS`."""
    slim = Queued.of(job)
    return (
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
        slim.work,
        needs_text(slim.needs),
        slim.prompt,
    )


INSERT_COLUMNS = (
    "id, platform, user_id, chat_id, reply_target, mode, request, files, work_dir, status, "
    "attempts, created_at, batch, work, needs, preview"
)
# The columns of a queued job's `Queued` record (`queued_from_row`).
QUEUED_COLUMNS = "id, platform, user_id, seq, mode, created_at, work, needs, preview"


def column_value(name: str, value: Any) -> Any:
    """The value stored in column `name` for the job attribute of that name."""
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


def job_from_row(row: Row) -> Job:
    """The job a `SELECT * FROM jobs` row holds."""
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


def queued_from_row(row: Row, shared: Shared) -> Queued:
    """The `Queued` record a row of `QUEUED_COLUMNS` holds (`work` not NULL)."""
    return Queued(
        row["id"],
        shared.user(row["platform"], row["user_id"]),
        int(row["seq"]),
        Mode(row["mode"]),
        float(row["created_at"]),
        float(row["work"]),
        shared.needs(row["needs"]),
        row["preview"],
    )


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
