"""Suite-wide guards against leaked aiosqlite connections.

Each aiosqlite connection owns a non-daemon worker thread. One left open keeps the interpreter
from exiting after the last test, which would hang CI instead of failing it. The per-test
fixture fails the test that leaks; the session hook reports (with the test that was running
when the thread started) and stops any worker that escaped it, so the run always ends.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pg import database, pg_url, postgres_server  # noqa: F401 (fixtures for every test)

_started_during: dict[threading.Thread, str] = {}
_current_test = ["(outside any test)"]
_original_start = threading.Thread.start


def _recording_start(self: threading.Thread, *args: Any, **kwargs: Any) -> None:
    if _is_sqlite_worker(self):
        _started_during[self] = _current_test[0]
    _original_start(self, *args, **kwargs)


threading.Thread.start = _recording_start  # type: ignore[method-assign]


def _is_sqlite_worker(thread: threading.Thread) -> bool:
    return "_connection_worker" in thread.name


def _sqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive() and _is_sqlite_worker(t)}


def pytest_runtest_setup(item: pytest.Item) -> None:
    _current_test[0] = item.nodeid


@pytest.fixture(autouse=True)
def no_unclosed_sqlite_connections() -> Iterator[None]:
    """Fail the test that leaves an aiosqlite connection open."""
    before = _sqlite_workers()
    yield
    leaked = _sqlite_workers() - before
    for thread in leaked:
        thread.join(timeout=5)  # a closed connection's worker ends promptly
    still = [t.name for t in leaked if t.is_alive()]
    assert not still, f"aiosqlite connections left open: {still}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for thread in _sqlite_workers():
        thread.join(timeout=5)
        if not thread.is_alive():
            continue
        origin = _started_during.get(thread, "(unknown)")
        sys.stderr.write(
            f"\nwarning: an aiosqlite connection opened during {origin} was never closed; "
            "stopping its worker thread so the run can exit.\n"
        )
        # aiosqlite's worker stops when a queued call returns its stop sentinel.
        import aiosqlite.core

        queue = thread._args[0]  # type: ignore[attr-defined]
        queue.put((None, lambda: aiosqlite.core._STOP_RUNNING_SENTINEL))
