"""The finished video made ready for a platform: fitted to its upload limit in a scratch folder
of the adapter's own (the job's folder belongs to the engine), named in the archive."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.frontend import Config, DeliveryPlan, JobResult, plan_delivery


@asynccontextmanager
async def scratch(prefix: str) -> AsyncIterator[Path]:
    """A temporary folder for one delivery (a re-encoded video, a thumbnail), removed after."""
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=prefix))
    try:
        yield folder
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


def archive_name(config: Config, video: Path) -> str:
    """The video's path in the archive (what the operator looks for), else its file name."""
    try:
        return video.resolve().relative_to(config.storage.outputs.resolve()).as_posix()
    except ValueError:
        return video.name


async def fit_video(
    config: Config, result: JobResult, folder: Path, max_bytes: int
) -> DeliveryPlan:
    """The video as a file of at most `max_bytes` (re-encoded in `folder` if need be), else a
    link (`delivery.public_url`), else its archive name."""
    return await plan_delivery(
        result.video,
        folder,
        max_bytes=max_bytes,
        public_url=config.delivery.public_url,
        archive_name=archive_name(config, result.video),
    )
