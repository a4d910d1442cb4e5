"""Benchmark: the bot's own time per job, with a GPU that takes no time at all.

Run from the repository root: `python -m bench.overhead [--jobs 200]`.

One fake ComfyUI host (a real aiohttp server, in this process) runs every prompt at once;
the real `Engine` (SQLite store, archive, event-driven dispatch) does the rest. Two parts:

- latency: one job at a time (the next is submitted when the last was delivered), so each
  figure is the bot's own work, not waiting in a queue. Per job: accepted (`Engine.submit`
  returned) → submitted (the host began the prompt), and finished (the host ended it) →
  delivered (the front end got the video). The uploads of the inputs and the download of
  the video are the transfers; they are measured inside the host and listed separately,
  and the two latencies are also given without them.
- throughput: `--jobs` jobs submitted together; sustained jobs per second, accepted to
  delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import tempfile
import time
from pathlib import Path

from bench.dispatch import FAST, Busy, bench_config, inputs, instrument
from bot.archive import Archive
from bot.engine.core import Engine
from bot.engine.jobs import Job, JobResult
from bot.engine.store import JobStore
from bot.request import Ask, InputFiles, Mode, Order, Sender
from fakes.comfy_server import FakeComfy
from fakes.frontend import RecordingFrontEnd
from workflows.schema import bundled_object_info


class TimedFrontEnd(RecordingFrontEnd):
    """Notes when each video reached the front end."""

    def __init__(self) -> None:
        super().__init__("bench")
        self.delivered_at: dict[str, float] = {}

    async def deliver(self, job: Job, result: JobResult) -> None:
        self.delivered_at[job.id] = time.monotonic()
        await super().deliver(job, result)


def order(files: dict[str, Path], n: int) -> Order:
    ask = Ask(Mode.I2V, f"job {n}", InputFiles(image=files["image"]), FAST)
    return Order(ask, Sender("bench", f"user{n % 7}", "chat"))


def spent(fake: FakeComfy, path: str, start: float, end: float) -> float:
    """Seconds the host spent answering `path` between `start` and `end`."""
    return sum(
        min(e, end) - max(s, start)
        for _, p, s, e in fake.timings
        if p == path and e > start and s < end
    )


def line(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return f"{name:<44} p50 {statistics.median(ordered) * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"


async def latency(
    engine: Engine,
    front: TimedFrontEnd,
    fake: FakeComfy,
    busy: Busy,
    files: dict[str, Path],
    jobs: int,
) -> None:
    intervals = busy.intervals
    rows: dict[str, list[float]] = {k: [] for k in ("in", "in_net", "up", "out", "out_net", "down")}
    for n in range(jobs):
        job = await engine.submit(order(files, n))
        accepted = time.monotonic()
        await front.wait_until(lambda job=job: job.id in front.delivered_at)  # type: ignore[misc]
        began, ended, _ = intervals[-1]
        delivered = front.delivered_at[job.id]
        up = spent(fake, "/upload/image", accepted, began)
        down = spent(fake, "/view", ended, delivered)
        rows["in"].append(began - accepted)
        rows["up"].append(up)
        rows["in_net"].append(began - accepted - up)
        rows["out"].append(delivered - ended)
        rows["down"].append(down)
        rows["out_net"].append(delivered - ended - down)
    print(f"overhead: {jobs} jobs one at a time, a host with no GPU time")
    print(line("accepted -> submitted", rows["in"]))
    print(line("  of which uploading the inputs", rows["up"]))
    print(line("  the bot's own (without the upload)", rows["in_net"]))
    print(line("finished -> delivered", rows["out"]))
    print(line("  of which downloading the video (a tiny one)", rows["down"]))
    print(line("  the bot's own (without the download)", rows["out_net"]))


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="wanbot-bench-") as name:
        tmp = Path(name)
        files = inputs(tmp / "in")
        async with FakeComfy(object_info=bundled_object_info(), steps=1) as fake:
            busy = instrument(fake)
            config = bench_config(tmp, [fake.url], max_running_per_user=999)
            store = await JobStore.open(config.storage.database)
            engine = Engine(config, store, Archive(config.storage.outputs))
            front = TimedFrontEnd()
            engine.register(front)
            await engine.start()
            try:
                await latency(engine, front, fake, busy, files, args.jobs)
                started = time.monotonic()
                await asyncio.gather(*(engine.submit(order(files, n)) for n in range(args.jobs)))
                await engine.drain()
                took = time.monotonic() - started
                print(
                    f"throughput: {args.jobs} jobs submitted together, delivered in {took:.2f} s: "
                    f"{args.jobs / took:.1f} jobs/s sustained"
                )
            finally:
                await engine.stop()
                await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
