"""K fake ComfyUI hosts in a process of their own, for `bench.dispatch`.

Run as `python -m bench.fake_hosts K SECONDS SPREAD` (each job lasts SECONDS ± SPREAD, a
fraction): prints one JSON line with the hosts' URLs, then
serves until a line arrives on stdin; answers it with one JSON line holding each host's busy
intervals (`time.monotonic()` seconds, the same clock in every process on one machine) and
exits. In their own process the fakes' work (validating prompts, encoding result MP4s) does
not compete with the engine under test for the same event loop.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from bench.dispatch import instrument
from fakes.comfy_server import FakeComfy
from workflows.schema import bundled_object_info


def varied(seconds: float, spread: float, seed: int) -> Callable[[dict[str, Any]], float]:
    """GPU time per job: `seconds` ± `spread` (a fraction), as real jobs never last the same."""
    rng = random.Random(seed)
    return lambda _prompt: seconds * rng.uniform(1 - spread, 1 + spread)


async def serve(hosts: int, seconds: float, spread: float) -> None:
    info = bundled_object_info()
    async with AsyncExitStack() as stack:
        fakes = [
            await stack.enter_async_context(
                FakeComfy(object_info=info, job_seconds=varied(seconds, spread, n), steps=20)
            )
            for n in range(hosts)
        ]
        busy = [instrument(fake) for fake in fakes]
        print(json.dumps([fake.url for fake in fakes]), flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        print(json.dumps([b.intervals for b in busy]), flush=True)


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])))
