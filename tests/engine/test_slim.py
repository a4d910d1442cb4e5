"""A queued job is held in memory as its record, not whole: its request is read from the store
when it starts, and a restart reads the records' columns only."""

from __future__ import annotations

import gc
import json
import sqlite3
import weakref
from pathlib import Path

from bot.dburl import PostgresUrl
from bot.engine.events import JobAccepted, PositionChanged
from bot.engine.jobs import JobStatus
from bot.request import Ask, InputFiles, JobRequest, Mode, Order, Sender
from fakes.frontend import RecordingFrontEnd
from tests.engine.conftest import FAST, World, WorldFactory

ADMIN = "test:root"


def requests_alive() -> int:
    """How many `JobRequest` objects this process holds."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, JobRequest))


async def submit_unseen(world: World, user: str, prompt: str, **overrides: object) -> str:
    """Submit a job of a platform no front end serves (no notification holds it); its id."""
    ask = Ask(Mode.I2V, prompt, InputFiles(image=world.inputs["image"]), {**FAST, **overrides})
    job = await world.engine.submit(Order(ask, Sender("elsewhere", user, "c"), {"chat": user}))
    return job.id


async def test_queued_jobs_are_not_held_whole(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, max_queued_per_user=20) as world:
        await world.engine.admin.pause("gpu-1", by=ADMIN)  # nothing starts, nothing ahead
        before = requests_alive()
        ids = [await submit_unseen(world, "bob", f"job {n}") for n in range(12)]
        assert requests_alive() == before
        status = await world.engine.status("elsewhere", "bob")
        assert [(v.id, v.position, v.prompt) for v in status.jobs] == [
            (job_id, n + 1, f"job {n}") for n, job_id in enumerate(ids)
        ]
        assert all(v.eta_seconds is not None and v.eta_seconds > 0 for v in status.jobs)


async def test_a_queued_job_starts_with_its_request_and_files_read_from_the_store(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        await world.engine.admin.pause("gpu-1", by=ADMIN)
        job = await world.submit("bob", prompt="a lighthouse at dusk", seed=4242)
        job_id, gone = job.id, weakref.ref(job)
        await world.front.wait_for(job_id, JobAccepted)  # its notification is sent
        del job
        assert requests_alive() == 0  # only its record is left: the run must read it whole
        assert gone() is None
        await world.engine.admin.resume("gpu-1", by=ADMIN)
        await world.drain()
        assert world.front.delivered_ids() == [job_id]
        workflow = json.dumps(world.fakes[0].prompts[-1])
        assert "a lighthouse at dusk" in workflow and "4242" in workflow
        # Its prepared image was uploaded (under the name the workflow loads).
        assert any(name in workflow for name in world.fakes[0].uploads)
        stored = await world.store.get(job_id)
        assert stored is not None and stored.status is JobStatus.DONE


async def test_a_restart_takes_the_queue_up_as_records(
    engine_world: WorldFactory, database: Path | PostgresUrl
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, database=database) as world:
        prompts = ["first", "second", "third", "fourth"]
        ids = [(await world.submit("alice", prompt=p)).id for p in prompts]
        fake = world.fakes[0]
        await fake.wait_running(await fake.wait_for_prompt(1))
        await world.restart(RecordingFrontEnd())
        # The running job is re-attached whole; the queued ones are records (at most one
        # held while its inputs are uploaded ahead).
        assert requests_alive() <= 2
        views = (await world.engine.status("test", "alice")).jobs
        assert [(v.id, v.status, v.position, v.prompt) for v in views] == [
            (ids[0], JobStatus.RUNNING, None, "first"),
            (ids[1], JobStatus.QUEUED, 1, "second"),
            (ids[2], JobStatus.QUEUED, 2, "third"),
            (ids[3], JobStatus.QUEUED, 3, "fourth"),
        ]
        cancelled = await world.engine.cancel("test", "alice", ids[2])
        assert cancelled.status is JobStatus.CANCELLED
        stored = await world.store.get(ids[2])
        assert stored is not None and stored.status is JobStatus.CANCELLED
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == [ids[0], ids[1], ids[3]]
        made = [json.dumps(p) for p in fake.prompts]
        assert ["second" in m for m in made[1:]] == [True, False]
        assert "fourth" in made[2]
        # Its place changed when "second" started: told through the front end, whole.
        assert world.front.events_of(ids[3], PositionChanged)


async def test_rows_queued_before_records_existed_are_read_whole(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        ids = [(await world.submit("alice", prompt=f"old {n}")).id for n in range(3)]
        fake = world.fakes[0]
        await fake.wait_running(await fake.wait_for_prompt(1))
        await world.stop()
        with sqlite3.connect(world.config.storage.database) as db:  # as before migration 6
            db.execute("UPDATE jobs SET work = NULL, needs = NULL, preview = NULL")
        db.close()
        await world.start()
        views = (await world.engine.status("test", "alice")).jobs
        assert [(v.position, v.prompt) for v in views] == [
            (None, "old 0"),
            (1, "old 1"),
            (2, "old 2"),
        ]
        world.release_all()
        await world.drain()
        assert world.front.delivered_ids() == ids
