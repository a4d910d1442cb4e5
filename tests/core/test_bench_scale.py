"""`bench.scale` never hangs on a run that fails: its engine is stopped and its store closed."""

from __future__ import annotations

import argparse
import asyncio
import threading
from pathlib import Path

import pytest

from bench.dispatch import bench_config
from bench.scale import UNREACHABLE, disk_usage, measure
from bot.errors import LimitError


async def test_a_failed_run_stops_its_engine_and_closes_its_store(tmp_path: Path) -> None:
    # Three jobs of one user where one may queue two: the third submit is refused.
    args = argparse.Namespace(jobs=3, users=1, queries=2, batch=1)
    config = bench_config(tmp_path, [UNREACHABLE], health_interval=3600.0, max_queued_per_user=2)
    before = set(threading.enumerate())  # an earlier test's threads are not this run's
    with pytest.raises(LimitError):
        await measure(args, config, tmp_path)
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []  # the engine's dispatcher and health checks ended
    # The store's connection thread ends (it would keep the process alive): a closed store's
    # thread finishes its last message just after `close` returns, so it is waited for.
    workers = [
        t for t in set(threading.enumerate()) - before if "_connection_worker_thread" in t.name
    ]
    for worker in workers:
        await asyncio.to_thread(worker.join, 30)
    assert not [t for t in workers if t.is_alive()]


def test_disk_usage_counts_blocks_as_du_does(tmp_path: Path) -> None:
    folder = tmp_path / "jobs" / "a"
    folder.mkdir(parents=True)
    (folder / "small").write_bytes(b"x")
    used, content = disk_usage([tmp_path / "jobs"])
    assert content == 1
    # Two folders and a file, each at least one block, though the file holds one byte.
    assert used >= 3 * 512 and used == sum(
        p.lstat().st_blocks * 512 for p in [tmp_path / "jobs", folder, folder / "small"]
    )
