"""The engine in its own process, for the crash test: `python -m tests.engine.crash_engine`.

    crash_engine CONFIG DELIVERIES [--submit N --users U --image PNG]

Submits N jobs (round-robin over U users) if asked, prints "submitted", drains, prints
"drained" and exits 0. Deliveries are appended to DELIVERIES as JSON lines, each flushed and
fsynced before `deliver` returns, so a SIGKILL can never lose or invent one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from bot.archive import Archive
from bot.config import load_config
from bot.engine.core import Engine
from bot.engine.events import JobEvent
from bot.engine.jobs import Job, JobResult
from bot.engine.store import JobStore
from bot.request import Ask, InputFiles, Mode, Order, Sender

FAST = {"frames": 17, "steps": 4, "size": (256, 256)}


class FileFrontEnd:
    platform = "test"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def on_event(self, job: Job, event: JobEvent) -> None:
        return None

    async def deliver(self, job: Job, result: JobResult) -> None:
        line = json.dumps({"job": job.id, "video": str(result.video), "pid": os.getpid()})
        await asyncio.to_thread(self._append, line)

    async def was_delivered(self, job: Job) -> bool:
        if not self.path.exists():
            return False
        lines = self.path.read_text().splitlines()
        return any(json.loads(line)["job"] == job.id for line in lines if line.strip())

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())


async def main(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    store = await JobStore.open(config.storage.database)
    engine = Engine(config, store, Archive(config.storage.outputs))
    engine.register(FileFrontEnd(args.deliveries))
    await engine.start()
    for n in range(args.submit):
        ask = Ask(Mode.I2V, f"job {n}", InputFiles(image=args.image), FAST)
        await engine.submit(Order(ask, Sender("test", f"user{n % args.users}", "chat")))
    print("submitted", flush=True)
    await engine.drain()
    print("drained", flush=True)
    await engine.stop()
    await store.close()
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("deliveries", type=Path)
    parser.add_argument("--submit", type=int, default=0)
    parser.add_argument("--users", type=int, default=1)
    parser.add_argument("--image", type=Path)
    sys.exit(asyncio.run(main(parser.parse_args())))
