"""PostgreSQL as the store: a job end to end through the engine, migrations by processes
starting together, and a password that is never shown (`wanbot check`, `serve`, errors)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from bot.config import parse_config
from bot.dburl import PostgresUrl
from bot.engine.events import JobFinished
from bot.engine.jobs import JobStatus
from bot.engine.store import JobStore, migrations
from bot.engine.store_pg import PostgresStore
from bot.errors import ConfigError, StorageError
from bot.logs import hide_userinfo
from bot.request import Mode
from fakes.frontend import RecordingFrontEnd
from tests.cli.test_cli import ROOT
from tests.cli.test_init import CLEAN, run
from tests.cli.test_operator_errors import write_config
from tests.cli.test_storage import serve_until
from tests.engine.conftest import WorldFactory
from tests.pg import PASSWORD, PASSWORD_ROLE, PostgresServer

from bot.cli.serve import ALONE  # isort: skip


async def test_a_job_runs_end_to_end_on_postgresql(
    engine_world: WorldFactory, pg_url: PostgresUrl
) -> None:
    async with engine_world(hosts=1, database=pg_url) as world:
        assert isinstance(world.store, PostgresStore)
        job = await world.submit("alice", prompt="a cat surfing")
        await world.drain()
        assert world.front.delivered_ids() == [job.id]
        assert isinstance(world.front.events_of(job.id)[-1], JobFinished)
        await world.restart(RecordingFrontEnd())  # what the engine committed is in PostgreSQL
        stored = await world.store.get(job.id)
        assert stored is not None and stored.status is JobStatus.DONE and stored.delivered
        assert stored.prompt_id == world.fakes[0].accepted[0]
        assert await world.store.speeds() != {}
        again = await world.submit("alice", mode=Mode.I2V)
        await world.drain()
        assert world.front.delivered_ids() == [again.id]  # the first one is not sent again


async def test_processes_starting_together_migrate_once(pg_url: PostgresUrl) -> None:
    stores = await asyncio.gather(*(JobStore.open(pg_url) for _ in range(4)))
    try:
        versions = [await store.schema_version() for store in stores]
        assert versions == [len(migrations("postgresql"))] * 4
        assert len({await store.client_id() for store in stores}) == 1
    finally:
        for store in stores:
            await store.close()


def test_a_password_in_the_url_is_refused_without_showing_it() -> None:
    for url in (
        f"postgresql://me:{PASSWORD}@db/wanbot",
        f"postgresql://me@db/x?password={PASSWORD}",
    ):
        data = {
            "comfy": {"hosts": [{"name": "g", "url": "http://g"}]},
            "storage": {"database": url},
        }
        with pytest.raises(ConfigError) as caught:
            parse_config(data, "test config", env={})
        assert "set PGPASSWORD or use a password file" in str(caught.value)
        assert PASSWORD not in str(caught.value)


async def test_a_wrong_password_is_named_without_showing_it(
    postgres_server: PostgresServer, pg_url: PostgresUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_server.url(conninfo_to_dict(pg_url.url)["dbname"], role=PASSWORD_ROLE)
    monkeypatch.setenv("PGPASSWORD", PASSWORD + "-wrong")
    with pytest.raises(StorageError) as caught:
        await JobStore.open(url)
    assert "password authentication failed" in str(caught.value)
    assert "PGPASSWORD or a password file" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    with pytest.raises(StorageError, match="may create tables"):
        await JobStore.open(url)  # in: the role may not create tables in `public`


async def test_check_and_a_second_serve_on_postgresql(tmp_path: Path, pg_url: PostgresUrl) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", f'[storage]\ndatabase = "{pg_url}"\n')
    env = {**CLEAN, "PYTHONPATH": str(ROOT)}
    second: list[str] = []

    async def meanwhile() -> None:
        args = ["serve", "--config", str(config)]
        second.extend(await serve_until(args, tmp_path, env, "standby:"))

    seen = await serve_until(["serve", "--config", str(config)], tmp_path, env, ALONE, meanwhile)
    shown = hide_userinfo(pg_url.url)  # as every line shows a URL: its user info replaced
    assert any(f"database {shown}," in line for line in seen)
    assert any(line.startswith(f"wanbot: leading on {shown} as ") for line in seen)
    # A second serve on the database waits as the standby, naming the leader.
    assert second[-1].startswith("wanbot: standby: ")
    assert f"leads on {shown}; this process takes over within 15 s" in second[-1]
    checked = await run("check", "--config", config, cwd=tmp_path)
    assert f"database: ok ({shown})" in checked.out
