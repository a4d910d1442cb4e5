"""A real PostgreSQL server for the tests: one per test session, a fresh database per test.

The server is `fakes.pgserver`'s (the machine's own binaries, a temporary folder, a Unix socket
only). Tests that need it are skipped, saying why, only when no server binary is found;
`.ci/run` installs one.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.dburl import PostgresUrl
from fakes.pgserver import (
    PASSWORD,
    PASSWORD_ROLE,
    NoServer,
    PostgresServer,
    running_server,
    server_bin,
)

__all__ = ["PASSWORD", "PASSWORD_ROLE", "PostgresServer", "database", "pg_url", "postgres_server"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session (skipped when none is installed)."""
    if server_bin() is None and os.environ.get("CI") == "true":
        pytest.fail("no PostgreSQL server binaries: .ci/run installs them")  # CI runs these
    try:
        with running_server() as server:
            yield server
    except NoServer as exc:
        pytest.skip(str(exc))


_numbers = itertools.count(1)


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> PostgresUrl:
    """The URL of a new, empty database of its own for this test."""
    name = f"test_{os.getpid()}_{next(_numbers)}"
    postgres_server.create_database(name)
    return postgres_server.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | PostgresUrl:
    """Each store dialect in turn: a SQLite file under `tmp_path`, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "db.sqlite"
    url: PostgresUrl = request.getfixturevalue("pg_url")
    return url
