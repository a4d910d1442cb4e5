"""Benchmark: memory over many jobs through `wanbot serve`: does it stay flat?

Run from the repository root: `python -m bench.soak [--jobs 3000 --batch 250 --warmup 1000]`.

One fake ComfyUI host with no GPU time, in a process of its own (`bench.fake_hosts`: its own
records of every prompt grow, as a real host's history does, and are not the bot's). The bot
is built as `wanbot serve` builds it (`bot.app.App`: serve lock, SQLite store, archive, engine,
retention, the ops listener on a port of its own, logging set up as the command line does),
with one chat front end that keeps nothing and `/metrics` and `/readyz` scraped after each
batch; `--engine-only` leaves out all but the engine and its store. Jobs go in batches of
`--batch` (submitted together, then drained); after each batch a full garbage collection,
then the resident memory (RSS, from `/proc/self/statm`) and the bytes glibc's malloc has
handed out and not had back (`mallinfo2`) are sampled. Reported: RSS at start, after
`--warmup` jobs and at the end, and the growth per job after the warm-up as the least-squares
slope over the samples (what a long-running bot gains per job), for RSS and for malloc's
bytes in use. Each variant runs in a child process of its own: `wanbot serve` as it starts
(`bot.memory.limit_arenas`: `MALLOC_ARENA_MAX`, or 2 arenas), and glibc's default of 8
arenas per core. With `--trace`, the 15 call sites whose live Python memory grew most between
the end of the warm-up and the end (tracemalloc; slows the run by about 2x). Job folders and
the archive are on disk and pruned by `keep_job_files_days`; they are not memory.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import BaseModel

from bench.dispatch import FAST, bench_config, inputs
from bot import logs
from bot.app import App, Chat
from bot.archive import Archive
from bot.config import Config, Ops
from bot.engine.core import Engine
from bot.engine.events import JobEvent
from bot.engine.jobs import Job, JobResult
from bot.engine.store import JobStore
from bot.memory import OWN_SETTINGS, tune
from bot.request import Ask, InputFiles, Mode, Order, Sender

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") / 1024


def rss_kib() -> float:
    """Resident memory now (not the peak)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE_KIB


# glibc's `struct mallinfo2`, all size_t.
MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
             "fordblks", "keepcost")  # fmt: skip


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in MALLINFO2]


def malloc_in_use_kib() -> float:
    """Bytes malloc has handed out and not had back, in KiB (NaN without glibc's mallinfo2)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    mallinfo2 = getattr(libc, "mallinfo2", None)
    if mallinfo2 is None:
        return float("nan")
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return float(info.uordblks + info.hblkhd) / 1024


class CountingFrontEnd:
    """Delivers by counting: a front end that keeps nothing of a job once it is delivered."""

    platform = "bench"

    def __init__(self) -> None:
        self.delivered = 0
        self._tick = asyncio.Event()

    async def on_event(self, job: Job, event: JobEvent) -> None:
        return None

    async def deliver(self, job: Job, result: JobResult) -> None:
        await result.sent()
        self.delivered += 1
        self._tick.set()

    async def was_delivered(self, job: Job) -> bool:
        return False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def until(self, count: int) -> None:
        while self.delivered < count:
            self._tick.clear()
            await self._tick.wait()


class NoSettings(BaseModel):
    """The counting front end's section: nothing to set."""


class CountingChat:
    """The adapter package `bot.app` loads for a chat section, for the counting front end."""

    def __init__(self, front: CountingFrontEnd) -> None:
        self.front = front

    def read_settings(self, section: Any, env: Any, source: str) -> BaseModel:
        return NoSettings()

    def create(self, config: Config, settings: Any, engine: Engine) -> CountingFrontEnd:
        return self.front

    async def check(self, config: Config, settings: Any) -> tuple[bool, str]:
        return True, "bench: counts"


def slope(points: list[tuple[int, float]]) -> float:
    """Least-squares growth of y per unit of x."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


async def fake_host() -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.fake_hosts", "1", "0", "0",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    urls = json.loads(await process.stdout.readline())
    return process, urls[0]


@dataclass
class Samples:
    """(jobs done, KiB) after each batch: RSS and malloc's bytes in use."""

    rss: list[tuple[int, float]] = field(default_factory=list)
    heap: list[tuple[int, float]] = field(default_factory=list)

    def take(self, done: int) -> None:
        gc.collect()
        self.rss.append((done, rss_kib()))
        self.heap.append((done, malloc_in_use_kib()))


class Bot:
    """The bot under test: the engine alone, or everything `wanbot serve` runs."""

    def __init__(self, config: Config, front: CountingFrontEnd, engine_only: bool) -> None:
        self.front = front
        self._engine_only = engine_only
        self._config = config
        self._store: JobStore | None = None
        self.engine: Engine | None = None
        self.app: App | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._engine_only:
            self._store = await JobStore.open(self._config.storage.database)
            self.engine = Engine(self._config, self._store, Archive(self._config.storage.outputs))
            self.engine.register(self.front)
            await self.engine.start()
            return
        logs.setup()
        self._config.ops = Ops(listen="127.0.0.1:0")
        chat = CountingChat(self.front)
        self.app = App(self._config, [Chat("bench", chat, NoSettings())])
        await self.app.start()
        self.engine = self.app.engine
        self._session = aiohttp.ClientSession()

    async def scrape(self) -> None:
        """What Prometheus and a load balancer ask the ops listener."""
        if self.app is None or self.app.ops is None or self._session is None:
            return
        base = f"http://127.0.0.1:{self.app.ops.port}"
        for path in ("/metrics", "/readyz"):
            async with self._session.get(base + path) as response:
                await response.read()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self.app is not None:
            await self.app.stop()
        elif self.engine is not None and self._store is not None:
            await self.engine.stop()
            await self._store.close()


async def soak(bot: Bot, files: dict[str, Path], args: argparse.Namespace) -> dict[str, Any]:
    """Run the batches; the figures of the run."""
    assert bot.engine is not None
    samples = Samples()
    samples.take(0)
    before = None
    began = time.monotonic()
    done = 0
    while done < args.jobs:
        batch = min(args.batch, args.jobs - done)
        orders = [
            Order(
                Ask(Mode.I2V, f"job {done + n}", InputFiles(image=files["image"]), FAST),
                Sender("bench", f"user{(done + n) % 50}", "chat"),
            )
            for n in range(batch)
        ]
        await asyncio.gather(*(bot.engine.submit(order) for order in orders))
        done += batch
        await bot.front.until(done)
        await bot.engine.drain()
        await bot.scrape()
        samples.take(done)
        if args.trace and before is None and done >= args.warmup:
            before = tracemalloc.take_snapshot()
    after = [point for point in samples.rss if point[0] >= args.warmup]
    heap_after = [point for point in samples.heap if point[0] >= args.warmup]
    figures = {
        "jobs": args.jobs,
        "seconds": time.monotonic() - began,
        "start": samples.rss[0][1],
        "warm": after[0][1] if after else float("nan"),
        "end": samples.rss[-1][1],
        "per_job": slope(after) if len(after) > 1 else float("nan"),
        "heap_per_job": slope(heap_after) if len(heap_after) > 1 else float("nan"),
        "rss": samples.rss,
    }
    if before is not None:
        stats = tracemalloc.take_snapshot().compare_to(before, "lineno")
        figures["trace"] = [
            f"{s.size_diff / 1024:+9.1f} KiB {s.count_diff:+7d} blocks  {s.traceback}"
            for s in stats[:15]
        ]
    return figures


async def run_one(args: argparse.Namespace) -> dict[str, Any]:
    """One variant, in this process: the figures of its run."""
    if args.trace:
        tracemalloc.start(1)
    process, url = await fake_host()
    try:
        with tempfile.TemporaryDirectory(prefix="wanbot-soak-") as name:
            tmp = Path(name)
            files = inputs(tmp / "in")
            config = bench_config(tmp, [url], max_running_per_user=999)
            bot = Bot(config, CountingFrontEnd(), args.engine_only)
            await bot.start()
            try:
                return await soak(bot, files, args)
            finally:
                await bot.stop()
    finally:
        assert process.stdin is not None
        process.stdin.write(b"\n")
        await process.stdin.drain()
        await process.wait()


def print_figures(label: str, f: dict[str, Any], warmup: int) -> None:
    print(f"{label}: {f['jobs']} jobs, {f['seconds']:.0f} s")
    print(
        f"  RSS at start {f['start'] / 1024:.1f} MiB, after {warmup} jobs "
        f"{f['warm'] / 1024:.1f} MiB, at the end {f['end'] / 1024:.1f} MiB"
    )
    print(
        f"  growth after the warm-up: {f['per_job']:.2f} KiB per job (target < 0.5); "
        f"malloc in use {f['heap_per_job']:.2f} KiB per job"
    )
    print("  RSS MiB by jobs: " + ", ".join(f"{x}:{y / 1024:.1f}" for x, y in f["rss"]))
    for line in f.get("trace", []):
        print("  " + line)


VARIANTS = {
    "wanbot serve's malloc settings (bot.memory.tune)": "tuned",
    "glibc's defaults": "glibc",
}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--engine-only", action="store_true", help="the engine and store alone")
    parser.add_argument("--trace", action="store_true", help="report where memory grew")
    parser.add_argument("--only", choices=sorted(VARIANTS.values()), help="run one variant")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child(args: argparse.Namespace) -> None:
    """One variant in this process; its figures as the last line of output, in JSON."""
    if args.only == "tuned":
        tune({})  # as `wanbot serve` does, whatever the environment of this run says
    print(json.dumps(asyncio.run(run_one(args))))


def main(args: argparse.Namespace) -> None:
    """Each variant in a child process of its own (malloc's settings are per process)."""
    print(f"soak: {'the engine alone' if args.engine_only else 'wanbot serve (App)'}, "
          "one fake host with no GPU time")  # fmt: skip
    options = [f"--jobs={args.jobs}", f"--batch={args.batch}", f"--warmup={args.warmup}"]
    options += ["--engine-only"] * args.engine_only + ["--trace"] * args.trace
    env = {k: v for k, v in os.environ.items() if k not in OWN_SETTINGS}
    for label, name in VARIANTS.items():
        if args.only not in (None, name):
            continue
        command = [sys.executable, "-m", "bench.soak", "--child", f"--only={name}", *options]
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
        print_figures(label, json.loads(out.stdout.splitlines()[-1]), args.warmup)


if __name__ == "__main__":
    arguments = parse()
    if arguments.child:
        child(arguments)
    else:
        main(arguments)
