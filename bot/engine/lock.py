"""The lock that keeps a second `wanbot serve` off a SQLite database another one is serving.

Two engines on one database would both recover and run its jobs; on SQLite, the embedded
single-process default, the second one is refused with one line before it touches anything.
The lock is an OS file lock (`flock`) on a file beside the database: it goes away with the
process however that ends. On PostgreSQL, several processes share a database with one leader
instead (`bot.engine.lease`).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from typing import IO

from bot.errors import StorageError


def lock_path(database: Path) -> Path:
    """The lock file of `database`: `wanbot.db.lock` beside `wanbot.db`."""
    return database.with_name(database.name + ".lock")


class ServeLock:
    """Held by `wanbot serve` for its whole run: `await acquire()`, then `release()`."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = lock_path(database)
        self._file: IO[str] | None = None

    async def acquire(self) -> None:
        """Take the lock, or raise `StorageError` saying that another serve holds it."""
        self._file = await asyncio.to_thread(self._take)

    def _take(self) -> IO[str]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise StorageError(
                f"Cannot create {self.path}: {exc.strerror}. Check that the data folder "
                "([storage] data or WANBOT_DATA) exists and this user may write there."
            ) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            raise StorageError(
                f"Another `wanbot serve` is already running on {self.database}: stop it "
                "first, or give this one its own data folder ([storage] data or WANBOT_DATA)."
            ) from exc
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")  # for people: which process holds it
        handle.flush()
        return handle

    async def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing releases the lock
            self._file = None


def is_held(database: Path) -> bool:
    """Whether a running `wanbot serve` holds `database`'s lock (for `wanbot check`)."""
    path = lock_path(database)
    try:
        with path.open(encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return False
