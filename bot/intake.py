"""Accepting a job's files: copy them under `jobs/<id>/` and prepare them there.

Chat platforms' download links expire and temporary files vanish, so a job keeps its own
copies: `jobs/<id>/input/` holds what the user sent, `jobs/<id>/` the normalized uploads.
That is what lets a job run again after a restart, or be re-rolled later.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.errors import InputError
from bot.prepare import PreparedJob, prepare_job, prepare_request
from bot.request import InputFiles, JobRequest, Mode


def _copy(src: Path, dest: Path) -> Path:
    try:
        shutil.copyfile(src, dest)
    except FileNotFoundError as exc:
        raise InputError(f"The file {src.name} is no longer available; send it again.") from exc
    return dest


def _copy_inputs(inputs: InputFiles, folder: Path) -> InputFiles:
    folder.mkdir(parents=True, exist_ok=True)

    def one(path: Path, stem: str) -> Path:
        return _copy(path, folder / f"{stem}{path.suffix.lower()}")

    return InputFiles(
        image=one(inputs.image, "image"),
        audio=None if inputs.audio is None else one(inputs.audio, "audio"),
        pose=[one(p, f"pose_{i:05d}") for i, p in enumerate(inputs.pose)],
        face=[one(p, f"face_{i:05d}") for i, p in enumerate(inputs.face)],
        background=None if inputs.background is None else one(inputs.background, "background"),
    )


async def accept_inputs(
    job_dir: Path,
    mode: Mode,
    inputs: InputFiles,
    prompt: str,
    overrides: dict[str, Any],
    config: Config,
    schedulers: Sequence[str],
) -> PreparedJob:
    """Copy and prepare a new job's files; `UserError` (and nothing left behind) if unusable."""
    try:
        own = await asyncio.to_thread(_copy_inputs, inputs, job_dir / "input")
        return await prepare_job(mode, own, prompt, overrides, config, schedulers, job_dir)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, job_dir, True)
        raise


async def accept_request(job_dir: Path, request: JobRequest, config: Config) -> PreparedJob:
    """Copy and prepare an already resolved request (a re-roll of an earlier job)."""
    try:
        own = await asyncio.to_thread(_copy_inputs, request.inputs, job_dir / "input")
        # Notes of the original were about what its user typed; keep only the new ones.
        again = request.model_copy(update={"inputs": own, "notes": []})
        return await prepare_request(again, config, job_dir)
    except BaseException:
        await asyncio.to_thread(shutil.rmtree, job_dir, True)
        raise
