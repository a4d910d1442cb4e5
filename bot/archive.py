"""The archive: every finished video and a JSON record that can reproduce it.

Files live at `<outputs>/i2v/i2v_<mode>_<YYYYmmdd_HHMMSS>.mp4` with a `.json` of the same
stem. Two results finishing in the same second get `_2`, `_3`, ... suffixes; names are
reserved with an exclusive create, so concurrent writers (even in other processes) never
overwrite each other.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config import Config, HostConfig
from bot.errors import UserError
from bot.media.joins import join_videos
from bot.media.video import probe
from bot.request import JobRequest, Lineage
from workflows.svi import OVERLAP_FRAMES

ARCHIVE_VERSION = 1


class Timings(BaseModel):
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    gpu_seconds: float | None = None
    total_seconds: float | None = None


class ArchiveRecord(BaseModel):
    """Everything about one result: enough to run the same request again."""

    model_config = ConfigDict(extra="ignore")

    version: int = ARCHIVE_VERSION
    job_id: str | None = None
    request: JobRequest
    host: str
    prompt_id: str | None = None
    models: dict[str, str | float] = Field(default_factory=dict)  # file names, LoRA strengths
    hardware: dict[str, Any] = Field(default_factory=dict)
    workflow: dict[str, Any] = Field(default_factory=dict)
    timings: Timings = Field(default_factory=Timings)
    video: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, Any] = Field(default_factory=dict)


async def make_record(
    video: Path,
    request: JobRequest,
    host: HostConfig,
    config: Config,
    *,
    prompt_id: str | None,
    workflow: dict[str, Any],
    queued_at: datetime,
    started_at: datetime | None,
    gpu_seconds: float,
    job_id: str | None = None,
) -> ArchiveRecord:
    """The full record of a finished job: request, host set-up, workflow, timings, video."""
    finished = datetime.now(UTC)
    info = await probe(video)
    return ArchiveRecord(
        job_id=job_id,
        request=request,
        host=host.name,
        prompt_id=prompt_id,
        models=host.resolved_models(config.models).model_dump(),
        hardware=host.resolved_hardware().model_dump(),
        workflow=workflow,
        timings=Timings(
            queued_at=queued_at,
            started_at=started_at,
            finished_at=finished,
            gpu_seconds=round(gpu_seconds, 3),
            total_seconds=round((finished - queued_at).total_seconds(), 3),
        ),
        video={
            "duration": info.duration,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "frames": info.frames,
            "has_audio": info.has_audio,
            "size_bytes": info.size_bytes,
        },
    )


class Archive:
    """Writes results under `root/i2v/` and reads records back."""

    def __init__(self, root: Path) -> None:
        self.folder = root / "i2v"

    def _reserve(self, mode: str, when: datetime) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"i2v_{mode}_{when.strftime('%Y%m%d_%H%M%S')}"
        for n in range(1, 10_000):
            name = stem if n == 1 else f"{stem}_{n}"
            video = self.folder / f"{name}.mp4"
            try:
                fd = os.open(video, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                continue
            os.close(fd)
            return video
        raise RuntimeError(f"could not reserve an archive name for {stem}")

    def _save(self, video_src: Path, record: ArchiveRecord, when: datetime) -> Path:
        video = self._reserve(record.request.mode.value, when)
        try:
            if video_src.stat().st_dev == video.parent.stat().st_dev:
                os.replace(video_src, video)
            else:
                shutil.copyfile(video_src, video)
            json_path = video.with_suffix(".json")
            tmp = json_path.with_suffix(".json.tmp")
            tmp.write_text(record.model_dump_json(indent=2), encoding="utf-8")
            os.replace(tmp, json_path)
        except BaseException:
            video.unlink(missing_ok=True)
            raise
        return video

    async def save(
        self, video_src: Path, record: ArchiveRecord, when: datetime | None = None
    ) -> Path:
        """Move (or copy) `video_src` into the archive with its record; returns the MP4 path."""
        when = when or datetime.now(UTC).astimezone()
        return await asyncio.to_thread(self._save, video_src, record, when)

    @staticmethod
    def load(json_path: Path) -> ArchiveRecord:
        """Read a record written by `save` (for `wanbot generate --from`).

        Raises `UserError` saying what is wrong with the file: missing, a folder, unreadable,
        or not a record.
        """
        what = "give the .json file written beside an archived MP4"
        try:
            text = json_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"No archive record at {json_path}: {what}.") from None
        except IsADirectoryError:
            raise UserError(f"{json_path} is a folder: {what}.") from None
        except UnicodeDecodeError:
            raise UserError(f"{json_path} is not an archive record (not text): {what}.") from None
        except OSError as exc:
            raise UserError(f"Cannot read {json_path} ({exc.strerror}): {what}.") from None
        try:
            return ArchiveRecord.model_validate_json(text)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            why = "not JSON" if error["type"] == "json_invalid" else f"{where}: {error['msg']}"
            raise UserError(f"{json_path} is not an archive record ({why}): {what}.") from None


async def archive_joined(lineage: Lineage, continuation: Path) -> Path:
    """An extension's original and archived `continuation` as one video, archived beside it
    (`<name>_extended.mp4`) with the continuation's record plus `lineage` naming both."""
    joined = continuation.with_name(f"{continuation.stem}_extended.mp4")
    overlap = OVERLAP_FRAMES if lineage.svi else 1
    info = await join_videos(lineage.video, continuation, joined, overlap=overlap)

    def write_record() -> None:
        record = json.loads(continuation.with_suffix(".json").read_text(encoding="utf-8"))
        record["lineage"] = {
            "extends": lineage.job_id,
            "original": str(lineage.video),
            "continuation": str(continuation),
        }
        record["video"] = {
            **record.get("video", {}),
            "frames": info.frames,
            "duration": info.duration,
            "width": info.width,
            "height": info.height,
        }
        text = json.dumps(record, indent=2, ensure_ascii=False)
        joined.with_suffix(".json").write_text(text, encoding="utf-8")

    await asyncio.to_thread(write_record)
    return joined


async def record_clips(video: Path, clips: list[dict[str, Any]]) -> None:
    """Name a long video's clips (`bot.chain.ClipMade`, as dicts) in its archived record,
    under `lineage.clips`: each clip's prompt, seed, prompt id, host, GPU time and files."""

    def write() -> None:
        path = video.with_suffix(".json")
        record = json.loads(path.read_text(encoding="utf-8"))
        record["lineage"] = {**record.get("lineage", {}), "clips": clips}
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")

    await asyncio.to_thread(write)
