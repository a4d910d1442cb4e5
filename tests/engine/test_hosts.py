"""Hosts dropping out: jobs move to another host, wait while none is up, and are never lost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.engine.events import JobFailed, JobStarted
from bot.engine.hosts import Host, HostPool, SchemaCache
from bot.engine.jobs import JobStatus
from comfy.client import ComfyClient
from fakes.comfy_server import FakeComfy
from tests.engine.conftest import WorldFactory, make_config
from workflows.schema import bundled_object_info


async def test_host_dies_mid_job_and_the_job_finishes_elsewhere(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=2, comfy={"hold": True}) as world:
        dying, healthy = world.fakes
        healthy.hold = False
        jobs = [await world.submit(user) for user in ("alice", "bob", "carol")]
        await dying.wait_for_prompt(1)
        await dying.wait_running(dying.accepted[0])
        on_dying = next(j for j in jobs if j.host == "gpu-1")
        await dying.down()
        await world.drain()
        assert sorted(world.front.delivered_ids()) == sorted(j.id for j in jobs)
        stored = await world.store.get(on_dying.id)
        assert stored is not None
        assert (stored.status, stored.host, stored.attempts) == (JobStatus.DONE, "gpu-2", 2)
        assert world.engine.hosts["gpu-1"].up is False


async def test_jobs_wait_while_no_host_is_up_and_run_when_one_returns(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        fake = world.fakes[0]
        await fake.down()
        await world.engine.hosts.wait_until("gpu-1", up=False)
        job = await world.submit("alice")
        assert (await world.engine.get(job.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
        await fake.up()
        await world.front.wait_for(job.id, JobStarted)
        await world.drain()
        assert world.front.delivered_ids() == [job.id]


async def test_websocket_drop_mid_job_is_reconciled_from_history(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"drop_ws_mid_job": True, "history_lag": 1}) as world:
        job = await world.submit("alice")
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert world.fakes[0].ws_connects >= 2
        assert len(world.fakes[0].accepted) == 1


class GatedClient(ComfyClient):
    """A client whose health check answers only when the test opens the gate."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.asked = asyncio.Event()
        self.gate = asyncio.Event()

    async def system_stats(self) -> dict[str, Any]:
        self.asked.set()
        await self.gate.wait()
        return {}


async def test_a_health_check_cancelled_as_it_answers_stops(tmp_path: Path) -> None:
    """Stopping the engine cancels the health loops; none may swallow that and live on."""
    config = make_config(tmp_path, ["http://127.0.0.1:9"])
    async with GatedClient(config.comfy.hosts[0].url) as client:
        host = Host(config.comfy.hosts[0], client, SchemaCache(60.0))
        check = asyncio.create_task(HostPool(config).probe(host))
        await client.asked.wait()
        client.gate.set()
        check.cancel()  # in the same step as the answer arrives
        with pytest.raises(asyncio.CancelledError):
            await check


async def test_comfyui_restart_between_health_checks_runs_the_job_again(
    engine_world: WorldFactory,
) -> None:
    """ComfyUI forgot the running prompt: the job goes back to the queue, it does not fail."""
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        fake = world.fakes[0]
        job = await world.submit("alice")
        first = await fake.wait_for_prompt(1)
        await fake.wait_running(first)
        fake.hold = False
        await fake.restart()  # /system_stats never failed: the host stays up throughout
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert not world.front.events_of(job.id, JobFailed)
        assert len(fake.accepted) == 2 and fake.accepted[0] == first
        stored = await world.store.get(job.id)
        assert stored is not None
        assert (stored.status, stored.attempts, stored.prompt_id) == (
            JobStatus.DONE,
            2,
            fake.accepted[1],
        )


async def test_a_host_that_keeps_forgetting_fails_the_job_after_max_attempts(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}, max_attempts=2) as world:
        fake = world.fakes[0]
        job = await world.submit("alice")
        for count in (1, 2):
            await fake.wait_running(await fake.wait_for_prompt(count))
            await fake.restart()
        await world.drain()
        failed = world.front.events_of(job.id, JobFailed)
        assert len(failed) == 1 and "2 tries" in failed[0].reason
        assert len(fake.accepted) == 2


async def test_a_server_error_from_the_host_is_retried_then_fails_politely(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, max_attempts=2) as world:
        fake = world.fakes[0]
        fake.answers["POST /prompt"] = (500, "text/plain", "Server got itself in trouble")
        job = await world.submit("alice")
        await world.drain()
        failed = world.front.events_of(job.id, JobFailed)
        assert len(failed) == 1 and "2 tries" in failed[0].reason
        stored = await world.store.get(job.id)
        assert stored is not None and (stored.status, stored.attempts) == (JobStatus.FAILED, 2)


async def test_callers_that_find_the_schema_stale_share_one_fetch() -> None:
    """After a restart every re-attached job asks for the schema at once: one GET serves all."""
    async with (
        FakeComfy(object_info=bundled_object_info()) as fake,
        ComfyClient(fake.url) as client,
    ):
        cache = SchemaCache(60.0)
        infos = await asyncio.gather(*(cache.get(client) for _ in range(5)))
        assert all(info is infos[0] for info in infos)
        assert [r.path for r in fake.requests].count("/object_info") == 1
