"""Benchmark: how close does the engine keep K GPU hosts to 100 % busy?

Run from the repository root: `python -m bench.dispatch [--cases 4x26,16x200 --seconds 2]`.

Each case (K hosts x N jobs; the defaults have an even and an uneven count) gets K fake
ComfyUI hosts (real aiohttp servers with `--seconds` ± `--spread` of simulated GPU time per
job, in a process of their own: `bench/fake_hosts.py`, as real hosts are other machines) and
runs the same N jobs three times, side by side:

- engine: the real `Engine` (SQLite store, archive, event-driven dispatch), with
  `max_concurrent` 1 (every gap includes noticing the end and submitting the next job, whose
  inputs were uploaded while the host was busy) and 2 (the next job already waits in
  ComfyUI's own queue);
- poller: a client like the seed's example script, one loop per host: upload, submit, poll
  `/history` until done, download, next. The script polls every 10 s against jobs of several
  minutes; here it polls every `--poll` seconds (default 0.25 s against 2 s jobs, i.e. the same
  10 s poll scaled to 80 s jobs; far kinder to it than the real ratio). The last line states
  what the engine saves over the real 10 s poll on jobs of several minutes, from the gaps
  measured here.

Reported: efficiency = ideal / actual GPU makespan (ideal: the same jobs in the same order,
each on the first free host, with no gap; actual: first job start to last job end on any
host), each host's idle gap between the end of one job and the start of the next (median,
p99), measured inside the fake host, and the first-job skew (how much later the last host
got its first job than the first host: the jobs are accepted, i.e. copied and normalized,
while the first ones already run).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.archive import Archive
from bot.config import Config, parse_config
from bot.engine.core import Engine
from bot.engine.store import JobStore
from bot.intake import PreparedJob, prepare_job
from bot.params import scheduler_choices
from bot.request import Ask, InputFiles, Mode, Order, Sender
from bot.runner import HostSetup, submit_job
from comfy.client import ComfyClient
from comfy.outputs import pick_video
from fakes.comfy_server import FakeComfy
from fakes.frontend import RecordingFrontEnd
from fakes.media import png_bytes, wav_bytes
from workflows.schema import bundled_object_info

FAST: dict[str, Any] = {"frames": 17, "steps": 4, "size": (256, 256)}


@dataclass
class Busy:
    """When each job ran on one fake host (`time.monotonic()` seconds) and what it was."""

    intervals: list[tuple[float, float, str]]

    def gaps(self) -> list[float]:
        spans = sorted(self.intervals)
        return [b[0] - a[1] for a, b in itertools.pairwise(spans)]

    def busy_seconds(self) -> float:
        return sum(end - start for start, end, _ in self.intervals)

    def modes(self) -> list[str]:
        return [mode for _, _, mode in sorted(self.intervals)]

    def since(self, mark: float) -> Busy:
        return Busy([span for span in self.intervals if span[0] >= mark])

    def before(self, mark: float) -> Busy:
        return Busy([span for span in self.intervals if span[0] < mark])


def mode_of(prompt: dict[str, Any], config: Config) -> str:
    text = str(prompt)
    for mode in (Mode.INFINITETALK, Mode.ANIMATE):
        if getattr(config.models, mode.value) in text:
            return mode.value
    return Mode.I2V.value


def instrument(fake: FakeComfy, config: Config | None = None, switch_seconds: float = 0.0) -> Busy:
    """Record each job's run on `fake`; optionally charge a model switch like a real GPU."""
    busy = Busy([])
    runner = fake._jobs_runner
    original = runner.run
    loaded: list[str] = []

    async def run(job: Any) -> None:
        mode = mode_of(job.prompt, config) if config is not None else "?"
        start = time.monotonic()
        if switch_seconds and loaded and loaded[-1] != mode:
            await asyncio.sleep(switch_seconds)
        loaded.append(mode)
        try:
            await original(job)
        finally:
            busy.intervals.append((start, time.monotonic(), mode))

    runner.run = run  # type: ignore[method-assign]
    return busy


def bench_config(tmp: Path, urls: list[str], database: str | None = None, **queue: Any) -> Config:
    """`database`: a PostgreSQL URL; a SQLite file under `tmp` without one."""
    return parse_config(
        {
            "comfy": {
                "hosts": [{"name": f"gpu-{i}", "url": u} for i, u in enumerate(urls, 1)],
                "request_timeout": 10.0,
            },
            "storage": {
                "database": database or str(tmp / "wanbot.db"),
                "outputs": str(tmp / "outputs"),
                "jobs": str(tmp / "jobs"),
            },
            "queue": {
                "max_queued_per_user": 10_000,
                "max_total_queued": 100_000,
                "progress_interval": 1.0,
                "health_interval": 1.0,
                **queue,
            },
        },
        "bench",
        env={},
    )


def inputs(tmp: Path) -> dict[str, Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "in.png").write_bytes(png_bytes(320, 240))
    (tmp / "in.wav").write_bytes(wav_bytes(seconds=0.6))
    return {"image": tmp / "in.png", "audio": tmp / "in.wav"}


async def run_engine(
    config: Config, jobs: list[tuple[str, Mode]], files: dict[str, Path]
) -> tuple[float, Engine, JobStore]:
    """Submit every (user, mode) job, drain; returns the makespan and the (stopped) engine."""
    store = await JobStore.open(config.storage.database)
    engine = Engine(config, store, Archive(config.storage.outputs))
    front = RecordingFrontEnd()
    engine.register(front)
    await engine.start()
    started = time.monotonic()
    # Submitted together, as when a queue has built up: the hosts start at the same time.
    await asyncio.gather(
        *(
            engine.submit(
                Order(
                    Ask(
                        mode,
                        "bench",
                        InputFiles(
                            image=files["image"],
                            audio=files["audio"] if mode is Mode.INFINITETALK else None,
                        ),
                        FAST,
                    ),
                    Sender("test", user, user),
                )
            )
            for user, mode in jobs
        )
    )
    await engine.drain()
    makespan = time.monotonic() - started
    assert len(front.deliveries) == len(jobs), "every job must be delivered"
    await engine.stop()
    return makespan, engine, store


async def run_poller(config: Config, prepared: list[PreparedJob], poll: float, tmp: Path) -> float:
    queue: asyncio.Queue[PreparedJob] = asyncio.Queue()
    for job in prepared:
        queue.put_nowait(job)

    async def host_loop(index: int) -> None:
        host = config.comfy.hosts[index]
        async with ComfyClient(host.url) as client:
            setup = HostSetup.of(host, config, await client.object_info())
            while not queue.empty():
                job = queue.get_nowait()
                submission = await submit_job(job, client, setup)
                entry = await client.history(submission.prompt_id)
                while entry is None or not entry.get("outputs"):
                    await asyncio.sleep(poll)
                    entry = await client.history(submission.prompt_id)
                dest = tmp / f"{submission.prompt_id}.mp4"
                await client.download(pick_video(entry), dest)

    started = time.monotonic()
    await asyncio.gather(*(host_loop(i) for i in range(len(config.comfy.hosts))))
    return time.monotonic() - started


def ideal_makespan(busy: list[Busy]) -> float:
    """The makespan with no gap at all: the same jobs, in the order they started, each on
    the first host to be free. Uneven job counts and lengths do not count against us."""
    spans = sorted(span for b in busy for span in b.intervals)
    hosts = [0.0] * len(busy)
    for start, end, _ in spans:
        heapq.heapreplace(hosts, hosts[0] + (end - start))
    return max(hosts)


def summary(name: str, makespan: float, busy: list[Busy]) -> tuple[str, float]:
    """One line: efficiency = ideal / actual makespan on the hosts (first job start to last
    job end), ideal as `ideal_makespan`; the idle gaps; and the gap median itself."""
    spans = [span for b in busy for span in b.intervals]
    window = max(end for _, end, _ in spans) - min(start for start, _, _ in spans)
    gaps = sorted(g for b in busy for g in b.gaps())
    p99 = gaps[min(len(gaps) - 1, math.ceil(0.99 * len(gaps)) - 1)] if gaps else 0.0
    median = statistics.median(gaps) if gaps else 0.0
    firsts = [min(start for start, _, _ in b.intervals) for b in busy if b.intervals]
    skew = max(firsts) - min(firsts)
    line = (
        f"{name:<19} efficiency {ideal_makespan(busy) / window:5.3f}"
        f"  gap median {median * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"
        f"  first-job skew {skew * 1000:5.0f} ms  GPU makespan {window:6.2f} s"
        f"  end-to-end {makespan:6.2f} s"
    )
    return line, median


async def run_case(hosts: int, jobs: int, args: argparse.Namespace, tmp: Path) -> list[float]:
    """One case, side by side: the engine at 1 and 2 jobs per host, then the poller. Prints
    a line each; returns the gap medians (engine at 1, poller)."""
    info = bundled_object_info()
    files = inputs(tmp / "in")
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.fake_hosts",
        str(hosts),
        str(args.seconds),
        str(args.spread),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None
    urls: list[str] = json.loads(await server.stdout.readline())
    users = [(f"user{n % 5}", Mode.I2V) for n in range(jobs)]
    marks = [time.monotonic()]
    makespans = []
    for concurrent in (1, 2):
        config = bench_config(tmp / f"engine{concurrent}", urls, max_running_per_user=999)
        for host in config.comfy.hosts:
            host.max_concurrent = concurrent
        makespan, _, store = await run_engine(config, users, files)
        await store.close()
        makespans.append(makespan)
        marks.append(time.monotonic())
    poll_config = bench_config(tmp / "poll", urls)
    schedulers = scheduler_choices(info)
    prepared = [
        await prepare_job(
            Ask(Mode.I2V, "bench", InputFiles(image=files["image"]), FAST),
            poll_config,
            schedulers,
            tmp / "poll" / f"job{n}",
        )
        for n in range(jobs)
    ]
    poll_makespan = await run_poller(poll_config, prepared, args.poll, tmp)
    server.stdin.write(b"dump\n")
    await server.stdin.drain()
    busy = [
        Busy([(start, end, mode) for start, end, mode in intervals])
        for intervals in json.loads(await server.stdout.readline())
    ]
    await server.wait()
    print(
        f"dispatch: {hosts} hosts, {jobs} jobs of {args.seconds:g} s ± {args.spread:.0%}; "
        f"the poller polls every {args.poll:g} s"
    )
    medians = []
    for i, label in enumerate(("engine", "engine, 2 per host")):
        line, median = summary(
            label, makespans[i], [b.since(marks[i]).before(marks[i + 1]) for b in busy]
        )
        print(line)
        medians.append(median)
    line, poll_median = summary("poller", poll_makespan, [b.since(marks[-1]) for b in busy])
    print(line)
    print(f"poller makespan / engine makespan = {poll_makespan / makespans[0]:.3f}")
    return [medians[0], poll_median]


def long_jobs(engine_gap: float, poll_gap: float, poll: float) -> str:
    """What the engine gains over the seed's 10 s poller on jobs of several minutes: the
    poller's measured hand-over (its gap less half its poll) plus half of 10 s, per job."""
    handover = max(0.0, poll_gap - poll / 2)
    parts = []
    for minutes in (2, 4, 8):
        job = minutes * 60.0
        gain = (job + 5.0 + handover) / (job + engine_gap) - 1
        parts.append(f"{minutes} min jobs: {gain:.1%}")
    return "engine vs a 10 s poller, makespan saved per host: " + ", ".join(parts)


async def main(args: argparse.Namespace) -> None:
    cases = [tuple(int(n) for n in case.split("x")) for case in args.cases.split(",")]
    medians: list[list[float]] = []
    with tempfile.TemporaryDirectory(prefix="wanbot-bench-") as name:
        for n, (hosts, jobs) in enumerate(cases):
            medians.append(await run_case(hosts, jobs, args, Path(name) / f"case{n}"))
    engine_gap, poll_gap = medians[0]
    print(long_jobs(engine_gap, poll_gap, args.poll))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases", default="4x26,16x200", help="HOSTSxJOBS,...: even and uneven job counts"
    )
    parser.add_argument("--seconds", type=float, default=2.0, help="simulated GPU time per job")
    parser.add_argument("--spread", type=float, default=0.1, help="job length ± this fraction")
    parser.add_argument("--poll", type=float, default=0.25, help="baseline poll interval")
    asyncio.run(main(parser.parse_args()))
