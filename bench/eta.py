"""Benchmark: how right are the ETAs on a mixed workload?

Run from the repository root: `python -m bench.eta [--jobs 60 --warmup 6]`.

Jobs of 4 to 30 steps, 17 to 81 frames and three frame sizes go, one at a time, through the
real `Engine` to one fake ComfyUI host whose GPU time grows with frames x steps x pixels
(plus a fixed part and ±10 % noise, as real hosts vary). Each job's ETA is the one the user
is told when it is accepted (the queue is empty, so it is the job's own estimated time,
taken before its rounding to 0.1 s); it is compared with the GPU time the job took. Side by
side, on the same jobs, the estimate the engine gave before (seconds per frame, learned the
same way) is replayed.

Reported after `--warmup` jobs: the median and p90 absolute error, in % of the real time.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.dispatch import bench_config, inputs
from bot.archive import Archive
from bot.engine.core import Engine
from bot.engine.eta import work
from bot.engine.events import JobAccepted
from bot.engine.store import SPEED_WEIGHT, JobStore
from bot.request import Ask, InputFiles, Mode, Order, Sender
from fakes.comfy_server import FakeComfy
from fakes.frontend import RecordingFrontEnd
from workflows.schema import bundled_object_info

SIZES = [(256, 256), (480, 272), (832, 480)]
SECONDS_PER_UNIT = 0.002  # a 30-step 81-frame 832x480 job: about 5 s here
FIXED = 0.02


def gpu_time(seed: int) -> Any:
    """The fake host's GPU seconds for a prompt: from its sampler and its encoder node."""
    rng = random.Random(seed)

    def seconds(prompt: dict[str, Any]) -> float:
        inputs: dict[str, Any] = {}
        for node in prompt.values():
            if node["class_type"] in ("WanVideoSampler", "WanVideoImageToVideoEncode"):
                inputs.update(node["inputs"])
        units = inputs["num_frames"] * inputs["steps"] * inputs["width"] * inputs["height"]
        units /= 832 * 480
        return (FIXED + SECONDS_PER_UNIT * units) * rng.uniform(0.9, 1.1)

    return seconds


def workload(jobs: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {
            "steps": rng.choice([4, 8, 15, 20, 30]),
            "frames": rng.choice([17, 33, 49, 81]),
            "size": rng.choice(SIZES),
        }
        for _ in range(jobs)
    ]


def errors(estimates: list[float], actual: list[float]) -> str:
    pct = sorted(abs(e - a) / a * 100 for e, a in zip(estimates, actual, strict=True))
    p90 = pct[min(len(pct) - 1, math.ceil(0.9 * len(pct)) - 1)]
    return f"median {statistics.median(pct):5.1f} %  p90 {p90:5.1f} %"


async def main(args: argparse.Namespace) -> None:
    jobs = workload(args.jobs, 1)
    with tempfile.TemporaryDirectory(prefix="wanbot-bench-") as name:
        tmp = Path(name)
        files = inputs(tmp / "in")
        fake = FakeComfy(object_info=bundled_object_info(), job_seconds=gpu_time(2), steps=4)
        async with fake:
            config = bench_config(tmp, [fake.url])
            store = await JobStore.open(config.storage.database)
            engine = Engine(config, store, Archive(config.storage.outputs))
            front = RecordingFrontEnd("bench")
            engine.register(front)
            await engine.start()
            told: list[float] = []
            took: list[float] = []
            frames: list[int] = []
            try:
                for n, overrides in enumerate(jobs):
                    ask = Ask(Mode.I2V, f"job {n}", InputFiles(image=files["image"]), overrides)
                    job = await engine.submit(Order(ask, Sender("bench", "user", "chat")))
                    # What the accepted event says, before its rounding to 0.1 s (which
                    # would swamp the error on these short simulated jobs).
                    told.append(engine._estimator.cost(job.mode, work(job.request)))
                    await engine.drain()
                    assert front.events_of(job.id, JobAccepted)
                    done = await store.get(job.id)
                    assert done is not None and done.gpu_seconds
                    took.append(done.gpu_seconds)
                    frames.append(done.frames)
            finally:
                await engine.stop()
                await store.close()
    before = per_frame_replay(took, frames, config.queue.default_seconds_per_frame)
    w = args.warmup
    print(f"eta: {args.jobs} jobs of 4-30 steps, 17-81 frames, 3 sizes; first {w} not counted")
    print(f"per (frame x step x size), now   {errors(told[w:], took[w:])}")
    print(f"per frame, as before             {errors(before[w:], took[w:])}")


def per_frame_replay(took: list[float], frames: list[int], default: float) -> list[float]:
    """The old estimate of each job: seconds per frame, averaged as the store does."""
    spf: float | None = None
    out = []
    for seconds, count in zip(took, frames, strict=True):
        out.append(count * (default if spf is None else spf))
        measured = seconds / count
        spf = measured if spf is None else spf + SPEED_WEIGHT * (measured - spf)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=6)
    asyncio.run(main(parser.parse_args()))
