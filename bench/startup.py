"""Benchmark: how long does `wanbot --help` take, beside a bare Python start?

Run from the repository root: `python -m bench.startup [--runs 10]`. Prints the median wall
time of each over `--runs` runs, and the difference: what importing WanBot's command line
costs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(args: argparse.Namespace) -> None:
    bare = median_seconds([sys.executable, "-c", "pass"], args.runs)
    wanbot = median_seconds([sys.executable, "-m", "bot", "--help"], args.runs)
    print(
        f"startup ({args.runs} runs, medians): python -c pass {bare * 1000:.0f} ms; "
        f"wanbot --help {wanbot * 1000:.0f} ms (x{wanbot / bare:.1f}, "
        f"+{(wanbot - bare) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    main(parser.parse_args())
