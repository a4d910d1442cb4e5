"""Benchmark: 100,000 queued jobs from 10,000 users, on SQLite and on PostgreSQL side by side.

Run from the repository root: `python -m bench.scale [--jobs 100000 --users 10000]
[--stores sqlite,postgresql]`.

No ComfyUI is needed: the only host is unreachable, so every job stays queued (jobs wait,
they never fail, while no host is up). Each job goes through the real `Engine.submit`:
caps, copying and preparing a tiny input image under `jobs/<id>/`, one insert. PostgreSQL
runs on a server of its own started from this machine's binaries (`fakes.pgserver`, as for
the tests); without them that column says it was skipped, and why.

Each store is measured in a process of its own (peak RSS is a process's): jobs accepted per
second, `Engine.status` latency (p50, p99) over random users while jobs come and go (a task
submits one and cancels a user's newest, over and over), the time a new engine needs to
reload the whole queue from the database, peak RSS, and the disk used (`du`: blocks
allocated, not bytes of content) by the database and the job folders. A failed check (the
reload does not hold what the engine held) stops that store's run with its engine stopped and
its store closed, and the benchmark exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import resource
import stat
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from bench.dispatch import bench_config
from bot.archive import Archive
from bot.config import Config
from bot.dburl import PostgresUrl
from bot.engine.core import Engine
from bot.engine.store import JobStore
from bot.errors import UserError
from bot.request import Ask, InputFiles, Mode, Order, Sender
from fakes.media import png_bytes
from fakes.pgserver import NoServer, running_server

TINY = {"frames": 17, "steps": 4, "size": (128, 128)}
UNREACHABLE = "http://127.0.0.1:9"  # discard port: connection refused at once
# The targets at 100,000 jobs from 10,000 users, on each store.
TARGET_PEAK_MB = 300.0  # megabytes (10^6 bytes) of peak RSS
TARGET_RELOAD_S = 5.0
MIB = 2**20
Result = dict[str, Any]


class CheckFailed(Exception):
    """The engine did not do what the benchmark checks: the run is not worth reporting."""


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_usage(paths: Iterable[Path]) -> tuple[int, int]:
    """(bytes allocated on disk, as `du` counts them; bytes of files' content) of these files
    and folders and everything under them."""
    used = content = 0
    for path in paths:
        for name in _walk(path):
            info = os.lstat(name)
            used += info.st_blocks * 512
            content += 0 if stat.S_ISDIR(info.st_mode) else info.st_size
    return used, content


def _walk(path: Path) -> Iterator[str]:
    """`path` and everything under it, one name at a time: a list of every path would weigh
    on the peak RSS this benchmark measures."""
    yield str(path)
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            yield os.path.join(folder, name)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def check(ok: bool, what: str) -> None:
    if not ok:
        raise CheckFailed(what)


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


async def fill(engine: Engine, image: Path, args: argparse.Namespace, out: Result) -> int:
    """Queue the jobs, then ask for statuses while jobs come and go; how many are queued."""

    async def submit(engine: Engine, n: int) -> None:
        ask = Ask(Mode.I2V, f"job {n}", InputFiles(image=image), TINY)
        sender = Sender("bench", f"user{n % args.users}", "chat")
        await engine.submit(Order(ask, sender, {"message": n}))

    started = time.perf_counter()
    for batch in range(0, args.jobs, args.batch):
        last = min(args.jobs, batch + args.batch)
        await asyncio.gather(*(submit(engine, n) for n in range(batch, last)))
    out["intake_s"] = time.perf_counter() - started
    rng = random.Random(1)
    latencies: list[float] = []
    churn = asyncio.create_task(come_and_go(engine, submit, args))
    try:
        for _ in range(args.queries):
            user = f"user{rng.randrange(args.users)}"
            t0 = time.perf_counter()
            status = await engine.status("bench", user)
            latencies.append(time.perf_counter() - t0)
            await asyncio.sleep(0.001)  # let jobs come and go between queries
    finally:
        churn.cancel()
        out["churned"] = (await asyncio.gather(churn, return_exceptions=True))[0]
    check(status.queued >= args.jobs // 2, f"only {status.queued} jobs are queued")
    check(bool(status.jobs and status.jobs[0].position), "a user's job has no position")
    out["status_p50_ms"] = statistics.median(latencies) * 1000
    out["status_p99_ms"] = percentile(latencies, 0.99) * 1000
    # What the live engine holds once the churn has stopped: the reload must hold the same.
    return (await engine.status("bench", "user0")).queued


async def database_usage(config: Config) -> tuple[int, int]:
    """(bytes on disk, bytes of content) of the database: its files for SQLite (with the
    WAL); for PostgreSQL, what the server says its files take (`pg_database_size`)."""
    database = config.storage.database
    if not isinstance(database, PostgresUrl):
        # The file, its WAL and shared-memory index.
        return await asyncio.to_thread(disk_usage, database.parent.glob(f"{database.name}*"))
    async with await psycopg.AsyncConnection.connect(database.url) as db:
        cursor = await db.execute("SELECT pg_database_size(current_database())")
        row = await cursor.fetchone()
    size = int(row[0]) if row else 0
    return size, size


async def measure(args: argparse.Namespace, config: Config, tmp: Path) -> Result:
    """One store's run; the engines are stopped and the store closed whatever happens."""
    image = tmp / "in.png"
    image.write_bytes(png_bytes(128, 128))
    out: Result = {}
    store = await JobStore.open(config.storage.database)
    try:
        engine = Engine(config, store, Archive(config.storage.outputs))
        await engine.start()
        out["rss_start_mib"] = peak_mib()
        try:
            live = await fill(engine, image, args, out)
        finally:
            await engine.stop()
        out["peak_full_mib"] = peak_mib()
        del engine
        gc.collect()
        out["db_du"], out["db_bytes"] = await database_usage(config)
        out["jobs_du"], out["jobs_bytes"] = disk_usage([config.storage.jobs])
        t0 = time.perf_counter()
        again = Engine(config, store, Archive(config.storage.outputs))
        try:
            await again.start()
            out["reload_s"] = time.perf_counter() - t0
            reloaded = (await again.status("bench", "user0")).queued
        finally:
            await again.stop()
        check(reloaded == live, f"the reload has {reloaded} queued jobs, the engine had {live}")
        out["peak_mib"] = peak_mib()
    finally:
        await store.close()
    return out


async def child(args: argparse.Namespace) -> int:
    """Measure the store `args.child` names ("sqlite" or a PostgreSQL URL); the result as
    one JSON line on stdout."""
    with tempfile.TemporaryDirectory(prefix="wanbot-bench-") as name:
        tmp = Path(name)
        queue = {"health_interval": 3600.0, "max_total_queued": 2 * args.jobs}
        url = None if args.child == "sqlite" else args.child
        config = bench_config(tmp, [UNREACHABLE], url, **queue)
        try:
            result = await measure(args, config, tmp)
        except CheckFailed as failed:
            print(f"scale: check failed: {failed}", file=sys.stderr)
            return 1
    print(json.dumps(result))
    return 0


def run_store(args: argparse.Namespace, database: str) -> Result | str:
    """One store's run in a process of its own: its result, or why there is none."""
    command = [sys.executable, "-m", "bench.scale", "--child", database]
    for name in ("jobs", "users", "queries", "batch"):
        command += [f"--{name}", str(getattr(args, name))]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return f"FAILED (exit {done.returncode}; see above)"
    parsed: Result = json.loads(lines[-1])
    return parsed


def run_all(args: argparse.Namespace) -> dict[str, Result | str]:
    results: dict[str, Result | str] = {}
    for store in args.stores.split(","):
        print(f"scale: {store} ...", file=sys.stderr, flush=True)
        if store == "sqlite":
            results[store] = run_store(args, "sqlite")
            continue
        try:
            with running_server() as server:
                server.create_database("bench")
                results[store] = run_store(args, server.url("bench").url)
        except NoServer as why:
            results[store] = f"skipped: {why}"
    return results


def table(args: argparse.Namespace, results: dict[str, Result | str]) -> str:
    """The results side by side, one column per store."""
    rows: list[tuple[str, Callable[[Result], str]]] = [
        ("intake", lambda r: f"{args.jobs / r['intake_s']:.0f} jobs/s"),
        ("status p50", lambda r: f"{r['status_p50_ms']:.3f} ms"),
        ("status p99", lambda r: f"{r['status_p99_ms']:.3f} ms"),
        ("  jobs that came and went", lambda r: f"{r['churned']}"),
        ("reload", lambda r: f"{r['reload_s']:.2f} s"),
        ("RSS after start-up", lambda r: f"{r['rss_start_mib']:.0f} MiB"),
        ("peak RSS, queue full", lambda r: f"{r['peak_full_mib']:.0f} MiB"),
        ("peak RSS, after reload", lambda r: f"{r['peak_mib']:.0f} MiB"),
        ("database on disk (du)", lambda r: f"{r['db_du'] / MIB:.1f} MiB"),
        ("job folders on disk (du)", lambda r: f"{r['jobs_du'] / MIB:.1f} MiB"),
        ("  their files' bytes", lambda r: f"{r['jobs_bytes'] / MIB:.1f} MiB"),
        ("targets", verdict),
    ]
    lines = [f"scale: {args.jobs} jobs from {args.users} users, no host up"]
    lines.append(f"{'':26}" + "".join(f"{store:>22}" for store in results))
    for label, cell in rows:
        cells = [cell(r) if isinstance(r, dict) else "-" for r in results.values()]
        lines.append(f"{label:26}" + "".join(f"{c:>22}" for c in cells))
    lines += [f"{store}: {r}" for store, r in results.items() if isinstance(r, str)]
    return "\n".join(lines)


def verdict(result: Result) -> str:
    """Whether the issue's targets are met: peak RSS under 300 MB, reload under 5 s."""
    peak_ok = result["peak_mib"] * MIB < TARGET_PEAK_MB * 1e6
    reload_ok = result["reload_s"] < TARGET_RELOAD_S
    return f"peak {'met' if peak_ok else 'MISSED'}, reload {'met' if reload_ok else 'MISSED'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one store's run (internal)
    args = parser.parse_args()
    if args.child:
        return asyncio.run(child(args))
    results = run_all(args)
    print(table(args, results))
    print(
        f"targets: peak RSS under {TARGET_PEAK_MB:.0f} MB ({TARGET_PEAK_MB * 1e6 / MIB:.0f} MiB), "
        f"reload under {TARGET_RELOAD_S:.0f} s"
    )
    failed = any(isinstance(r, str) and r.startswith("FAILED") for r in results.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
