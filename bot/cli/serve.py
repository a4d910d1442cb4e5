"""`wanbot serve` (run the bot until SIGINT/SIGTERM) and `wanbot queue` (show the queue)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.app import App
from bot.config import Config
from bot.engine.jobs import Job
from bot.engine.store import JobStore
from bot.logs import announce
from bot.memory import tune

ALONE = "no chat platform configured; running the engine alone"
# `serve`'s exit status when another process took the leadership over (EX_TEMPFAIL): its
# supervisor starts it again, as a standby.
STEPPED_DOWN = 75


async def serve(args: argparse.Namespace, config: Config | None) -> int:
    """Start the engine and the configured front ends; stop cleanly on SIGINT or SIGTERM."""
    assert config is not None
    # Before any thread starts: the media workers' arenas would grow with the jobs.
    tune()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    app = App(config)
    try:
        # Says which data this bot works on: a relative path in the config is easy to misread.
        announce(storage_line(config))
        if not await _start_unless_stopped(app, stop):
            announce("stopping")
            return 0
        hosts = ", ".join(h.name for h in config.comfy.hosts)
        if app.adapters:
            names = ", ".join(a.platform for a in app.adapters)
            announce(f"serving {names} with hosts {hosts}")
        else:
            announce(f"{ALONE} (hosts {hosts})")
        if await _stopped_or_lost(stop, app.lost):
            announce(
                f"stopping: another process leads now ({app.lease and app.lease.why_lost}); "
                f"exiting with status {STEPPED_DOWN} so a supervisor starts this one again "
                "as a standby"
            )
            return STEPPED_DOWN
        announce("stopping")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await app.stop()
    return 0


async def _stopped_or_lost(stop: asyncio.Event, lost: asyncio.Event) -> bool:
    """Wait for a stop signal or the leadership lost; True for the latter."""
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(lost.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
        await asyncio.gather(*waits, return_exceptions=True)
    return lost.is_set() and not stop.is_set()


def storage_line(config: Config) -> str:
    """Where the database, the archive and the jobs' files are, and how long those are kept."""
    storage = config.storage
    days = storage.keep_job_files_days
    kept = f"kept {days} days after a job ends" if days else "kept forever"
    database = storage.database
    where = database.absolute() if isinstance(database, Path) else database
    return (
        f"database {where}, archive {storage.outputs.absolute()}, "
        f"job files {storage.jobs.absolute()} ({kept})"
    )


async def _start_unless_stopped(app: App, stop: asyncio.Event) -> bool:
    """Start `app`; False when a stop signal came first (a front end still connecting)."""
    starting = asyncio.create_task(app.start(), name="app-start")
    stopping = asyncio.create_task(stop.wait(), name="stop-signal")
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not starting.done():
            starting.cancel()
        await asyncio.gather(starting, stopping, return_exceptions=True)
    if starting.cancelled():
        return False
    starting.result()  # the error that stopped the start, if any
    return True


async def queue(args: argparse.Namespace, config: Config | None) -> int:
    """Print active jobs and the latest finished ones, oldest first."""
    assert config is not None
    database = config.storage.database
    if isinstance(database, Path) and not database.exists():
        print(f"no database at {database.absolute()} yet: no jobs.")
        return 0
    store = await JobStore.open(config.storage.database)
    try:
        jobs = await store.recent(limit=args.limit)
        leader = await store.leader()
    finally:
        await store.close()
    print_queue(jobs, sys.stdout, leader=leader)
    return 0


COLUMNS = ("ID", "USER", "MODE", "STATUS", "HOST", "PROGRESS", "AGE")


def print_queue(
    jobs: Sequence[Job], out: TextIO, now: float | None = None, *, leader: str | None = None
) -> None:
    """A plain table, one job per line; first, the process that leads, if one does (several
    `wanbot serve` on PostgreSQL)."""
    now = time.time() if now is None else now
    if leader is not None:
        out.write(f"leader: {leader}\n")
    rows = [COLUMNS] + [
        (
            job.id,
            job.user,
            job.mode.value,
            job.status.value,
            job.host or "-",
            f"{job.progress:.0f}%" if job.status.active else "-",
            format_age(now - job.created_at),
        )
        for job in jobs
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")
    if not jobs:
        out.write("(no jobs)\n")


def format_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
