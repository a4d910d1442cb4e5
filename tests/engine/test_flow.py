"""One job through the whole engine: accepted, started, progress, archived, delivered once."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.engine.events import JobAccepted, JobFinished, JobProgress, JobStarted
from bot.engine.jobs import JobStatus
from bot.errors import ParameterError
from bot.request import Mode
from tests.engine.conftest import WorldFactory


async def test_job_is_run_archived_and_delivered_once(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        job = await world.submit("alice", prompt="a cat surfing")
        front = world.front
        # Held after its first step: progress of a job that finished before the engine
        # started following it would be read from /history, without any progress.
        await front.wait_for(job.id, JobProgress)
        world.release_all()
        await world.drain()
        assert front.delivered_ids() == [job.id]
        kinds = [type(e) for e in front.events_of(job.id)]
        assert kinds[0] is JobAccepted and kinds[1] is JobStarted
        assert JobProgress in kinds and kinds[-1] is JobFinished
        result = front.deliveries[0].result
        assert result.video.exists() and result.json.exists()
        record = json.loads(result.json.read_text())
        assert record["job_id"] == job.id
        assert record["request"]["prompt"] == "a cat surfing"
        assert record["workflow"] == world.fakes[0].prompts[0]
        stored = await world.store.get(job.id)
        assert stored is not None
        assert stored.status is JobStatus.DONE and stored.delivered
        assert stored.prompt_id == world.fakes[0].accepted[0]
        assert stored.output == result.video
        # The inputs were copied under jobs/<id>/ when the job was accepted.
        assert (world.config.storage.jobs / job.id / "input" / "image.png").exists()
        assert await world.store.speeds()


async def test_infinitetalk_job(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        job = await world.submit("bob", mode=Mode.INFINITETALK)
        await world.drain()
        assert world.front.delivered_ids() == [job.id]


async def test_reroll_reuses_inputs_and_params_with_a_new_seed(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        first = await world.submit("alice", prompt="a fox", seed=42)
        await world.drain()
        again = await world.engine.reroll(first.id, platform="test", user_id="alice")
        await world.drain()
        assert world.front.delivered_ids() == [first.id, again.id]
        assert again.request.prompt == "a fox"
        assert again.request.params.seed != 42
        assert again.request.params.model_dump(exclude={"seed"}) == first.request.params.model_dump(
            exclude={"seed"}
        )
        assert again.work_dir != first.work_dir and (again.work_dir / "input").is_dir()


async def test_host_takes_the_next_job_while_the_last_video_downloads(
    engine_world: WorldFactory,
) -> None:
    """The GPU is free once ComfyUI has finished: fetching the video must not hold the host."""
    async with engine_world(hosts=1) as world:
        fake = world.fakes[0]
        fake.view_gate = asyncio.Event()  # downloads wait until the gate opens
        first = await world.submit("alice")
        second = await world.submit("bob")
        await fake.wait_done(await fake.wait_for_prompt(1))
        # The first video is still downloading, yet the second job is already on the host.
        await fake.wait_for_prompt(2)
        assert not world.front.delivered_ids()
        fake.view_gate.set()
        await world.drain()
        assert sorted(world.front.delivered_ids()) == sorted([first.id, second.id])
        assert len(fake.accepted) == 2  # neither job had to run twice


async def test_a_failed_download_is_retried_without_running_the_job_again(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        fake = world.fakes[0]
        fake.view_failures = 2  # the video is on the host; fetching it fails twice
        job = await world.submit("alice")
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert len(fake.accepted) == 1  # the GPU work was done once
        views = [r for r in fake.requests if r.path == "/view"]
        assert len(views) == 3


async def test_reroll_is_checked_against_todays_limits(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        first = await world.submit("alice", steps=8)
        await world.drain()
        world.engine.config.limits.max_steps = 6  # the operator lowered the limit since
        with pytest.raises(
            ParameterError, match="steps 8 is out of range: use a value from 1 to 6"
        ):
            await world.engine.reroll(first.id, platform="test", user_id="alice")
        assert world.front.delivered_ids() == [first.id]


async def test_reroll_of_a_talking_video_keeps_the_length_of_its_speech(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        first = await world.submit("bob", mode=Mode.INFINITETALK)
        await world.drain()
        # The speech made more frames than `--frames` may ask for: not the user's choice.
        world.engine.config.limits.max_frames = first.request.params.frames - 4
        again = await world.engine.reroll(first.id, platform="test", user_id="bob")
        await world.drain()
        assert again.request.params.frames == first.request.params.frames
        assert world.front.delivered_ids() == [first.id, again.id]
