"""PostgreSQL restarted under a running engine: the store connects again and the engine goes on;
no job is lost or run twice."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.store_pg import PostgresStore
from bot.errors import StorageError
from tests.engine.conftest import WorldFactory
from tests.pg import PostgresServer


@pytest.fixture
def own_server(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A server of this test's own (it is restarted and stopped), from the same binaries."""
    folder = Path(tempfile.mkdtemp(prefix="wanbot-pg-own-"))
    server = PostgresServer(folder, postgres_server.bin, postgres_server.user)
    if server.user is not None:
        shutil.chown(folder, *server.user)
    server.start()
    try:
        yield server
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def test_the_engine_goes_on_after_postgresql_restarts(
    engine_world: WorldFactory, own_server: PostgresServer
) -> None:
    own_server.create_database("wanbot")
    async with engine_world(hosts=1, database=own_server.url("wanbot")) as world:
        assert isinstance(world.store, PostgresStore)
        first = await world.submit("alice", prompt="before")
        await world.drain()
        own_server.restart()
        second = await world.submit("bob", prompt="after")
        await world.drain()
        stored = await world.store.get(second.id)
    assert world.front.delivered_ids() == [first.id, second.id]
    assert len(world.fakes[0].accepted) == 2  # each submitted to ComfyUI once
    assert stored is not None and stored.delivered


async def test_a_server_that_stays_away_is_one_clear_error(own_server: PostgresServer) -> None:
    own_server.create_database("wanbot")
    store = await PostgresStore.connect(own_server.url("wanbot"))
    store.reconnect_for = 0.5
    try:
        own_server.stop()
        with pytest.raises(StorageError, match=r"could not connect again within 0\.5 s"):
            await store.client_id()
    finally:
        await store.close()
