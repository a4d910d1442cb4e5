"""Fetching a finished video: a transfer cut short is fetched again, never archived as a video.

The engine and the CLI share the run path (`bot.runner.run_job`) and so the check: the byte
count against Content-Length, then the file must open as a video.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import parse_config
from bot.engine.events import JobFailed
from bot.engine.jobs import JobStatus
from bot.fetch import VideoIncomplete
from bot.intake import prepare_job
from bot.media.video import probe
from bot.request import Ask, InputFiles, Mode
from bot.runner import HostSetup, run_job
from comfy.client import ComfyClient
from fakes.comfy_server import FakeComfy
from tests.engine.conftest import FAST, WorldFactory, write_inputs
from workflows.schema import bundled_object_info

FRAMES = FAST["frames"]


def _views(fake: FakeComfy) -> int:
    return sum(1 for r in fake.requests if r.path == "/view")


@pytest.mark.parametrize("announce_length", [True, False])
async def test_a_download_cut_short_is_fetched_again(
    engine_world: WorldFactory, announce_length: bool
) -> None:
    async with engine_world(hosts=1) as world:
        fake = world.fakes[0]
        fake.view_truncations = 1
        fake.truncated_views_announce_length = announce_length
        job = await world.submit("alice")
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        video = world.front.deliveries[0].result.video
        assert (await probe(video)).frames == FRAMES
        assert len(fake.accepted) == 1 and _views(fake) == 2  # fetched again, not re-run


async def test_a_download_that_never_arrives_whole_fails_the_job_clearly(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        fake = world.fakes[0]
        fake.view_truncations = 1000
        fake.truncated_views_announce_length = False
        world.config.comfy.fetch_retry_seconds = 1.0
        job = await world.submit("alice")
        await world.drain()
        assert world.front.delivered_ids() == []
        failed = world.front.events_of(job.id, JobFailed)
        assert len(failed) == 1
        assert failed[0].reason.startswith("The video was made, but it could not be downloaded")
        assert len(fake.accepted) == 1  # the GPU work was not thrown away and redone
        stored = await world.store.get(job.id)
        assert stored is not None and stored.status is JobStatus.FAILED
        assert not list(world.config.storage.outputs.rglob("*.mp4"))  # nothing archived


async def _run(
    fake: FakeComfy, client: ComfyClient, tmp_path: Path, fetch_window: float = 60.0
) -> Path:
    """A job through the run path, as `wanbot generate` runs it; returns the video."""
    config = parse_config({"comfy": {"hosts": [{"name": "gpu", "url": fake.url}]}})
    image = write_inputs(tmp_path / "in")["image"]
    ask = Ask(Mode.I2V, "a cat", InputFiles(image=image), FAST)
    job = await prepare_job(ask, config, ["unipc"], tmp_path / "work")
    setup = HostSetup.of(config.comfy.hosts[0], config, await client.object_info())
    dest = tmp_path / "result.mp4"
    return (await run_job(job, client, setup, dest, fetch_window=fetch_window)).video


async def test_the_run_path_fetches_a_cut_short_video_again(tmp_path: Path) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.view_truncations = 1
        fake.truncated_views_announce_length = False
        async with ComfyClient(fake.url) as client:
            video = await _run(fake, client, tmp_path)
        assert (await probe(video)).frames == FRAMES
        assert _views(fake) == 2


async def test_the_run_path_reports_a_video_that_never_arrives_whole(tmp_path: Path) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.view_truncations = 1000
        async with ComfyClient(fake.url) as client:
            with pytest.raises(VideoIncomplete, match="could not be downloaded whole"):
                await _run(fake, client, tmp_path, fetch_window=1.0)
        assert not (tmp_path / "result.mp4").exists()
