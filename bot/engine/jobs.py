"""Jobs as the engine and the front ends see them: status, the stored row, views and results."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.chain import ClipMade
from bot.request import FileSet, JobRequest, Mode, user_key


class JobStatus(StrEnum):
    """Where a job is in its life. `queued` → `running` → `delivering` → `done`."""

    QUEUED = "queued"
    RUNNING = "running"
    DELIVERING = "delivering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        """Not finished yet: the engine still owes this job work."""
        return self in ACTIVE


ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DELIVERING})


def new_job_id() -> str:
    """A short unique id users can type: 10 hex characters."""
    return secrets.token_hex(5)


@dataclass(frozen=True)
class Batch:
    """A job's place among the jobs of one request (`--batch N`, an album of photos), which a
    front end shows on one card: the group's id, the job's index from 0, and how many."""

    group: str
    index: int
    size: int


@dataclass(eq=False)
class Job:
    """One row of the `jobs` table. The engine owns the live copy of every active job."""

    id: str
    platform: str
    user_id: str
    chat_id: str
    reply_target: dict[str, Any]
    request: JobRequest
    files: FileSet[Path]
    work_dir: Path  # jobs/<id>/: the user's files under input/, the prepared ones, the result
    status: JobStatus = JobStatus.QUEUED
    seq: int = 0
    host: str | None = None
    prompt_id: str | None = None
    progress: float = 0.0
    # ComfyUI's progress through the running node (not the sampler steps the user asked for).
    progress_step: int = 0
    progress_steps: int = 0
    attempts: int = 0
    error: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    output: Path | None = None
    gpu_seconds: float | None = None
    delivered: bool = False
    workflow: dict[str, Any] = field(default_factory=dict)
    batch: Batch | None = None
    clips: list[ClipMade] = field(default_factory=list)  # a long video's finished clips

    @property
    def mode(self) -> Mode:
        return self.request.mode

    @property
    def user(self) -> str:
        return user_key(self.platform, self.user_id)

    @property
    def frames(self) -> int:
        return self.request.params.frames


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class JobResult:
    """A finished video, as handed to `FrontEnd.deliver`.

    The front end awaits `sent()` as soon as the platform has accepted the video, before
    anything else (buttons, card edits): the engine commits it, so a later failure is not
    answered with a second video, nor is a restart.
    """

    video: Path
    json: Path
    gpu_seconds: float
    host: str
    request: JobRequest
    sent: Callable[[], Awaitable[None]] = _nothing


@dataclass(frozen=True)
class JobView:
    """What a user sees about one of their jobs in a status reply."""

    id: str
    mode: Mode
    status: JobStatus
    position: int | None  # 1 = next to start; None unless queued
    progress: float  # 0-100
    step: int
    steps: int
    eta_seconds: float | None
    host: str | None
    prompt: str  # of a queued job not loaded whole, its first characters (`slim.PREVIEW`)


@dataclass(frozen=True)
class QueueStatus:
    """A user's own active jobs and the size of the whole queue."""

    jobs: list[JobView]
    queued: int
    running: int
