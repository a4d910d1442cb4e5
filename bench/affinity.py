"""Benchmark: model affinity vs plain FIFO on a mixed-mode workload.

Run from the repository root: `python -m bench.affinity [--jobs 40 --seconds 0.4 --switch 0.6]`.

Two fake hosts get the same shuffled mix of I2V and InfiniteTalk jobs from several users,
twice: with affinity (`affinity_max_wait` 60 s) and plain FIFO (`affinity_max_wait` 0, so the
fair head always goes first; only a free host that already has its model wins a tie). A
model switch costs `--switch` seconds on the fake host, like loading another 14B model.

Reported per run: model switches, the longest queue wait (start - accept) and the makespan.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path

from bench.dispatch import bench_config, inputs, instrument, run_engine
from bot.request import Mode
from fakes.comfy_server import FakeComfy
from workflows.schema import bundled_object_info


async def one_run(
    label: str, wait: float, jobs: list[tuple[str, Mode]], args: argparse.Namespace, tmp: Path
) -> str:
    async with AsyncExitStack() as stack:
        fakes = [
            await stack.enter_async_context(
                FakeComfy(object_info=bundled_object_info(), job_seconds=args.seconds, steps=8)
            )
            for _ in range(2)
        ]
        config = bench_config(
            tmp / label, [f.url for f in fakes], affinity_max_wait=wait, max_running_per_user=9
        )
        busy = [instrument(f, config, args.switch) for f in fakes]
        makespan, _, store = await run_engine(config, jobs, inputs(tmp / "in"))
        done = await store.recent(limit=len(jobs))
        await store.close()
    switches = sum(
        sum(1 for a, b in itertools.pairwise(modes) if a != b)
        for modes in (b.modes() for b in busy)
    )
    waits = [j.started_at - j.created_at for j in done if j.started_at is not None]
    return (
        f"{label:<9} model switches {switches:3d}   longest wait {max(waits):6.2f} s   "
        f"makespan {makespan:6.2f} s"
    )


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    modes = [Mode.I2V, Mode.INFINITETALK]
    jobs = [(f"user{rng.randrange(6)}", rng.choice(modes)) for _ in range(args.jobs)]
    print(
        f"affinity: 2 hosts, {args.jobs} jobs (I2V/InfiniteTalk mixed) of {args.seconds:g} s, "
        f"model switch {args.switch:g} s"
    )
    with tempfile.TemporaryDirectory(prefix="wanbot-bench-") as name:
        tmp = Path(name)
        print(await one_run("affinity", 60.0, jobs, args, tmp))
        print(await one_run("fifo", 0.0, jobs, args, tmp))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=0.4, help="simulated GPU time per job")
    parser.add_argument("--switch", type=float, default=0.6, help="simulated model load time")
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(main(parser.parse_args()))
