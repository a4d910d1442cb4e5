"""Leadership on PostgreSQL: the lease row, its takeover, the fenced writes, and what a standby
`wanbot serve` shows (/readyz, /metrics, `wanbot queue`) before and after it takes over."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import psycopg
import pytest

from adapters.chat import texts
from adapters.chat.admin import AdminActions
from adapters.chat.markup import PLAIN
from bot.app import App
from bot.cli.serve import print_queue
from bot.config import parse_config
from bot.dburl import PostgresUrl
from bot.engine.jobs import JobStatus
from bot.engine.lease import Lease
from bot.engine.store import JobStore
from bot.errors import LostLeadership
from fakes.comfy_server import FakeComfy
from tests.engine.test_ops import sample
from tests.engine.test_store import _job
from tests.pg import PostgresServer
from workflows.schema import bundled_object_info


@pytest.fixture
async def store(pg_url: PostgresUrl) -> AsyncIterator[JobStore]:
    """The database's store (its migrations create the lease row)."""
    opened = await JobStore.open(pg_url)
    yield opened
    await opened.close()


def expire(url: PostgresUrl) -> None:
    """End the current lease now, as the clock does for a leader frozen past it."""
    with psycopg.connect(url.url, autocommit=True) as db:
        db.execute("UPDATE leadership SET expires_at = now() WHERE id = 1")


async def test_a_standby_takes_over_an_expired_lease_and_fences_the_old_leader(
    pg_url: PostgresUrl, store: JobStore, tmp_path: Path
) -> None:
    old, new = Lease(pg_url, 30, holder="old:1"), Lease(pg_url, 30, holder="new:2")
    other = await JobStore.open(pg_url)
    try:
        await old.wait_to_lead()
        store.fence_with(old)
        job = await store.add(_job("j1", tmp_path))
        job.status = JobStatus.RUNNING
        await store.update(job, "status")  # the leader's fenced write goes through
        standby: list[str] = []
        told = asyncio.Event()
        waiting = asyncio.create_task(
            new.wait_to_lead(lambda who: (standby.append(who), told.set()))
        )
        await asyncio.wait_for(told.wait(), 30)
        assert standby == ["old:1"] and not waiting.done()
        expire(pg_url)
        await asyncio.wait_for(waiting, 30)
        assert new.generation == (old.generation or 0) + 1
        assert await store.leader() == "new:2"
        job.status, job.prompt_id = JobStatus.CANCELLED, "from-the-old-leader"
        with pytest.raises(LostLeadership):
            await store.update(job, "status", "prompt_id")
        assert old.lost.is_set() and not old.leading
        stored = await store.get(job.id)
        assert stored is not None and stored.status is JobStatus.RUNNING and not stored.prompt_id
        with pytest.raises(LostLeadership):
            await store.check_leading()  # asked before a video is handed to a front end
        job.progress = 50.0
        await store.update(job, "progress")  # not an act on the job: not fenced
        other.fence_with(new)
        job.status = JobStatus.QUEUED
        await other.update(job, "status")
        await other.check_leading()
        assert (await other.get(job.id)).status is JobStatus.QUEUED  # type: ignore[union-attr]
    finally:
        await other.close()
        await old.close()
        await new.close()


async def test_a_leader_that_stops_hands_over_at_once(pg_url: PostgresUrl, store: JobStore) -> None:
    first, second = Lease(pg_url, 600, holder="a:1"), Lease(pg_url, 600, holder="b:2")
    try:
        await first.wait_to_lead()
        waiting = asyncio.create_task(second.wait_to_lead())
        await first.close()  # released, not left to expire in 600 s
        await asyncio.wait_for(waiting, 30)
        assert await store.leader() == "b:2"
    finally:
        await second.close()


async def test_a_leader_whose_renewal_fails_steps_down(
    pg_url: PostgresUrl, store: JobStore
) -> None:
    lease = Lease(pg_url, 1.0, holder="a:1")
    try:
        await lease.wait_to_lead()
        expire(pg_url)  # as if frozen past its lease: the next renewal finds it ended
        await asyncio.wait_for(lease.lost.wait(), 30)
        assert "expired" in lease.why_lost
    finally:
        await lease.close()


async def test_the_leader_and_a_standby_go_on_through_a_database_restart(
    postgres_server: PostgresServer, pg_url: PostgresUrl, store: JobStore
) -> None:
    seconds = 9.0  # renewed every 3 s: one renewal may fail, the next must reconnect
    leader, standby = Lease(pg_url, seconds, holder="a:1"), Lease(pg_url, seconds, holder="b:2")
    try:
        await leader.wait_to_lead()
        told = asyncio.Event()
        waiting = asyncio.create_task(standby.wait_to_lead(lambda _: told.set()))
        await asyncio.wait_for(told.wait(), 30)
        await asyncio.to_thread(postgres_server.restart)
        leader.renewed.clear()
        await asyncio.wait_for(leader.renewed.wait(), 30)  # a renewal after the restart
        with psycopg.connect(pg_url.url, autocommit=True) as db:
            # ...that the server recorded: the leader reconnected.
            assert renewed_since_restart(db, seconds)
        assert leader.leading and not waiting.done()
        await leader.close()  # the standby, reconnected too, takes over
        await asyncio.wait_for(waiting, 30)
        assert standby.generation == (leader.generation or 0) + 1
    finally:
        await leader.close()
        await standby.close()


async def test_the_store_reconnects_after_a_database_restart(
    postgres_server: PostgresServer, store: JobStore, tmp_path: Path
) -> None:
    job = await store.add(_job("j1", tmp_path))
    await asyncio.to_thread(postgres_server.restart)
    job.status = JobStatus.RUNNING
    await store.update(job, "status")  # dropped under it: run again on a new connection
    assert (await store.get(job.id)).status is JobStatus.RUNNING  # type: ignore[union-attr]
    await asyncio.to_thread(postgres_server.restart)
    assert await store.count(JobStatus.RUNNING) == 1


def renewed_since_restart(db: psycopg.Connection[tuple[object, ...]], seconds: float) -> bool:
    row = db.execute(
        "SELECT expires_at > pg_postmaster_start_time() + make_interval(secs => %s) "
        "FROM leadership",
        (seconds,),
    ).fetchone()
    return bool(row and row[0])


async def test_a_standby_serve_says_so_then_leads(
    tmp_path: Path, pg_url: PostgresUrl, store: JobStore
) -> None:
    elsewhere = Lease(pg_url, 600, holder="elsewhere:1")
    async with FakeComfy(object_info=bundled_object_info()) as comfy:
        data = {
            "comfy": {"hosts": [{"name": "fake", "url": comfy.url}]},
            "storage": {
                "database": pg_url.url,
                "outputs": str(tmp_path / "outputs"),
                "jobs": str(tmp_path / "jobs"),
            },
            "queue": {"failover_seconds": 1.0},
            "ops": {"listen": "127.0.0.1:0"},
        }
        app = App(parse_config(data, "test config", env={}), chats=[])
        await elsewhere.wait_to_lead()
        starting = asyncio.create_task(app.start())
        try:
            await asyncio.wait_for(app.standing_by.wait(), 30)
            standby = await _scrape(app)
            out = io.StringIO()
            print_queue([], out, leader=await store.leader())
            await elsewhere.close()
            await asyncio.wait_for(starting, 30)
            leading = await _scrape(app)
            assert app.engine is not None and app.lease is not None
            hosts = await AdminActions(app.engine, PLAIN).hosts()  # an admin's /hosts
        finally:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            await app.stop()
            await elsewhere.close()
    assert standby[:2] == (200, "standby\n")
    assert sample(standby[2], "wanbot_leader") == 0
    assert out.getvalue().startswith("leader: elsewhere:1\n")
    assert leading[:2] == (200, "ready\n")
    assert sample(leading[2], "wanbot_leader") == 1
    assert hosts.splitlines()[-1] == texts.leader(app.lease.holder)
    assert app.lease.holder in hosts.splitlines()[-1]


async def _scrape(app: App) -> tuple[int, str, str]:
    assert app.ops is not None
    base = f"http://127.0.0.1:{app.ops.port}"
    async with aiohttp.ClientSession() as http:
        ready = await http.get(f"{base}/readyz")
        metrics = await http.get(f"{base}/metrics")
        return ready.status, await ready.text(), await metrics.text()
