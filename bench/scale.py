"""Benchmark: 100,000 queued jobs from 10,000 users: intake rate, status latency, memory.

Run from the repository root: `python -m bench.scale [--jobs 100000 --users 10000]`.

No ComfyUI is needed: the only host is unreachable, so every job stays queued (jobs wait,
they never fail, while no host is up). Each job goes through the real `Engine.submit`:
caps, copying and preparing a tiny input image under `jobs/<id>/`, one SQLite insert.

Reported: jobs accepted per second, `Engine.status` latency (p50, p99) over random users
while jobs come and go (a task submits one and cancels a user's newest, over and over), the
time a new engine needs to recover the whole queue from the database, peak RSS, and the
sizes of the database and the job folders.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.dispatch import bench_config
from bot.archive import Archive
from bot.engine.core import Engine
from bot.engine.store import JobStore
from bot.errors import UserError
from bot.request import Ask, InputFiles, Mode, Order, Sender
from fakes.media import png_bytes

TINY = {"frames": 17, "steps": 4, "size": (128, 128)}
UNREACHABLE = "http://127.0.0.1:9"  # discard port: connection refused at once


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mib(folder: Path, pattern: str) -> float:
    return sum(f.stat().st_size for f in folder.glob(pattern) if f.is_file()) / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def come_and_go(
    engine: Engine, submit: Callable[[Engine, int], Awaitable[None]], args: argparse.Namespace
) -> int:
    """Submit a job and cancel a user's newest one, over and over, until cancelled; returns
    how many jobs came and went."""
    rng = random.Random(2)
    count = 0
    try:
        while True:
            await submit(engine, args.jobs + count)
            user = f"user{rng.randrange(args.users)}"
            with contextlib.suppress(UserError):
                await engine.cancel("bench", user)
            count += 1
    except asyncio.CancelledError:
        return count


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="wanbot-bench-") as name:
        tmp = Path(name)
        image = tmp / "in.png"
        image.write_bytes(png_bytes(128, 128))
        config = bench_config(
            tmp, [UNREACHABLE], health_interval=3600.0, max_total_queued=2 * args.jobs
        )
        store = await JobStore.open(config.storage.database)
        # Closed whatever happens: its connection's thread would keep the process alive.
        try:
            engine = Engine(config, store, Archive(config.storage.outputs))
            await engine.start()
            baseline = peak_mib()

            async def submit(engine: Engine, n: int) -> None:
                ask = Ask(Mode.I2V, f"job {n}", InputFiles(image=image), TINY)
                sender = Sender("bench", f"user{n % args.users}", "chat")
                await engine.submit(Order(ask, sender, {"message": n}))

            started = time.perf_counter()
            for batch in range(0, args.jobs, args.batch):
                last = min(args.jobs, batch + args.batch)
                await asyncio.gather(*(submit(engine, n) for n in range(batch, last)))
            intake = time.perf_counter() - started

            rng = random.Random(1)
            latencies: list[float] = []
            churn = asyncio.create_task(come_and_go(engine, submit, args))
            for _ in range(args.queries):
                user = f"user{rng.randrange(args.users)}"
                t0 = time.perf_counter()
                status = await engine.status("bench", user)
                latencies.append(time.perf_counter() - t0)
                await asyncio.sleep(0.001)  # let jobs come and go between queries
            churn.cancel()
            changed = await asyncio.gather(churn, return_exceptions=True)
            assert status.queued >= args.jobs // 2 and status.jobs and status.jobs[0].position
            # What the live engine holds once the churn has stopped: the reload must hold the same.
            live = (await engine.status("bench", "user0")).queued
            await engine.stop()
            queued_peak = peak_mib()
            del engine
            gc.collect()

            db_mib = disk_mib(tmp, "wanbot.db*")
            jobs_mib = disk_mib(config.storage.jobs, "**/*")
            t0 = time.perf_counter()
            again = Engine(config, store, Archive(config.storage.outputs))
            await again.start()
            recovery = time.perf_counter() - t0
            reloaded = (await again.status("bench", "user0")).queued
            await again.stop()
            assert reloaded == live, f"the reload has {reloaded} queued jobs, the engine had {live}"
        finally:
            await store.close()

    print(f"scale: {args.jobs} jobs from {args.users} users, no host up")
    print(f"intake        {args.jobs / intake:8.0f} jobs/s   ({intake:.1f} s in all)")
    print(
        f"status        p50 {statistics.median(latencies) * 1000:6.3f} ms   "
        f"p99 {percentile(latencies, 0.99) * 1000:6.3f} ms   ({args.queries} queries)"
    )
    print(f"              while {changed[0]} jobs came and went (one submit, one cancel)")
    print(f"recovery      {recovery:6.2f} s to reload the queue in a new engine")
    print(f"on disk       database {db_mib:.1f} MiB, job folders {jobs_mib:.1f} MiB")
    print(
        f"peak memory   {queued_peak:6.1f} MiB RSS with the queue full (process at "
        f"{baseline:.1f} MiB after start-up imports); {peak_mib():.1f} MiB after the reload"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=100)
    asyncio.run(main(parser.parse_args()))
