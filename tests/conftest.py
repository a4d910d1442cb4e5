"""Suite-wide guards."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest


def _sqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive() and "_connection_worker" in t.name}


@pytest.fixture(autouse=True)
def no_unclosed_sqlite_connections() -> Iterator[None]:
    """Fail the test that leaves an aiosqlite connection open.

    Each connection owns a non-daemon thread: one left open keeps the interpreter from exiting
    at the end of the run, which would hang CI instead of failing it.
    """
    before = _sqlite_workers()
    yield
    leaked = _sqlite_workers() - before
    for thread in leaked:
        thread.join(timeout=5)  # a closed connection's worker ends promptly
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"aiosqlite connections left open: {still}"
