"""A new engine on the same database picks up where the old one stopped."""

from __future__ import annotations

from bot.engine.events import JobStarted
from bot.engine.jobs import JobStatus
from bot.engine.store import JobStore
from fakes.frontend import RecordingFrontEnd
from tests.engine.conftest import WorldFactory


async def test_queued_jobs_are_requeued_in_order_and_running_one_reattached(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        jobs = [await world.submit("alice") for _ in range(3)]
        fake = world.fakes[0]
        await fake.wait_running(await fake.wait_for_prompt(1))
        await world.restart()
        assert [j.status for j in (await world.engine.status("test", "alice")).jobs] == [
            JobStatus.RUNNING,
            JobStatus.QUEUED,
            JobStatus.QUEUED,
        ]
        fake.hold = False
        fake.release()
        await world.drain()
        assert world.front.delivered_ids() == [j.id for j in jobs]
        # The running job was followed to its end, not submitted again.
        assert len(fake.accepted) == 3


async def test_job_finished_while_the_engine_was_down_is_delivered(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        job = await world.submit("alice")
        fake = world.fakes[0]
        prompt_id = await fake.wait_for_prompt(1)
        await fake.wait_running(prompt_id)
        await world.stop()
        fake.release()
        await fake.wait_done(prompt_id)
        await world.start()
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert len(fake.accepted) == 1


async def test_prompt_unknown_to_the_host_runs_again(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1, comfy={"hold": True}) as world:
        job = await world.submit("alice")
        fake = world.fakes[0]
        await fake.wait_running(await fake.wait_for_prompt(1))
        await world.stop()
        store = await JobStore.open(world.config.storage.database)
        stored = await store.get(job.id)
        assert stored is not None
        stored.prompt_id = "forgotten-by-a-host-restart"
        await store.update(stored, "prompt_id")
        await store.close()
        fake.hold = False
        fake.release()
        await world.start()
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert len(fake.accepted) == 2
        # Submitted again in the same attempt: the engine's restart cut it short, not the host.
        done = await world.store.get(job.id)
        assert done is not None and done.attempts == 1 and done.prompt_id == fake.accepted[1]


async def test_interrupted_delivery_is_completed_once(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        world.front.fail_deliveries = 1
        world.engine.delivery_backoff = 3600.0  # stays "delivering" after the first failure
        job = await world.submit("alice")
        await world.front.wait_until(lambda: world.front.delivery_attempts >= 1)
        assert (await world.engine.get(job.id)).status is JobStatus.DELIVERING  # type: ignore[union-attr]
        await world.restart(RecordingFrontEnd())
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        stored = await world.store.get(job.id)
        assert stored is not None and stored.status is JobStatus.DONE and stored.delivered


async def test_already_sent_delivery_is_not_sent_again(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        job = await world.submit("alice")
        await world.drain()
        # Pretend the engine died after the send but before committing it.
        stored = await world.store.get(job.id)
        assert stored is not None
        stored.status, stored.delivered = JobStatus.DELIVERING, False
        await world.store.update(stored, "status", "delivered")
        front = world.front
        await world.restart(front)
        await world.drain()
        assert front.delivered_ids() == [job.id]  # was_delivered said yes: not sent twice


async def test_delivery_retries_then_fails_with_a_message(engine_world: WorldFactory) -> None:
    async with engine_world(hosts=1) as world:
        world.front.fail_deliveries = 10
        job = await world.submit("alice")
        await world.drain()
        assert world.front.delivered_ids() == []
        assert world.front.delivery_attempts == 3
        stored = await world.store.get(job.id)
        assert stored is not None and stored.status is JobStatus.FAILED
        assert "could not be sent" in (stored.error or "")
        assert world.front.events_of(job.id, JobStarted)


async def test_a_failure_after_the_video_went_out_does_not_send_it_again(
    engine_world: WorldFactory,
) -> None:
    async with engine_world(hosts=1) as world:
        world.front.fail_after_sending = 3
        job = await world.submit("alice")
        await world.drain()
        stored = await world.store.get(job.id)
    assert world.front.delivered_ids() == [job.id] and world.front.delivery_attempts == 1
    assert stored is not None and stored.status is JobStatus.DONE and stored.delivered


async def test_a_send_recorded_before_a_crash_is_not_repeated(engine_world: WorldFactory) -> None:
    """The engine holds the record: no front end needs to remember what it sent."""
    async with engine_world(hosts=1) as world:
        job = await world.submit("alice")
        await world.drain()
        stored = await world.store.get(job.id)
        assert stored is not None
        stored.status = JobStatus.DELIVERING  # sent and recorded, then the process died
        await world.store.update(stored, "status")
        forgetful = RecordingFrontEnd()
        forgetful.remember_deliveries = False
        await world.restart(forgetful)
        await world.drain()
        done = await world.store.get(job.id)
    assert forgetful.delivered_ids() == [] and done is not None and done.status is JobStatus.DONE
