"""A cancelled job is stopped through the jobs API on hosts that have it, else as before."""

from __future__ import annotations

import pytest

from bot.engine.events import JobCancelled, JobFailed
from bot.engine.jobs import JobStatus
from tests.engine.conftest import WorldFactory

# What a host is asked to stop a prompt with; not /prompt or /upload/image.
STOPPING = ("POST /interrupt", "POST /queue", "POST /api/jobs/")


@pytest.mark.parametrize(
    ("version", "stop"),
    [("0.33.0", "POST /api/jobs/{}/cancel"), ("0.25.0", "POST /interrupt")],
)
async def test_cancelling_a_running_job_uses_what_its_host_has(
    engine_world: WorldFactory, version: str, stop: str
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True, "version": version}) as world:
        job = await world.submit("alice")
        fake = world.fakes[0]
        prompt_id = await fake.wait_for_prompt(1)
        await fake.wait_running(prompt_id)

        await world.engine.cancel("test", "alice", job.id)
        await world.drain()

        asked = {f"{r.method} {r.path}" for r in fake.requests}
        # The engine may ask twice: once more if the answer to POST /prompt comes after the
        # cancel (`Runs._on_submitted`); the prompt was running both times.
        assert {call for call in asked if call.startswith(STOPPING)} == {stop.format(prompt_id)}
        assert set(fake.interrupts) == {prompt_id}
        assert world.front.events_of(job.id, JobCancelled)
        assert not world.front.events_of(job.id, JobFailed)
        stored = await world.store.get(job.id)
        assert stored is not None and stored.status is JobStatus.CANCELLED
