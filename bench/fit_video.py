"""Benchmark: how much slower and hungrier is `fit_video` than plainly decoding the same file?

Run from the repository root: `python -m bench.fit_video`. It generates a 60-second 832x480
16 fps H.264 + AAC clip at a high bitrate (so fitting under 10 MiB must re-encode), then
measures (a) decoding every frame and (b) `fit_video(..., 10 MiB)` in the same process.
"""

from __future__ import annotations

import asyncio
import math
import os
import resource
import struct
import tempfile
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageChops

from bot.media.video import fit_video, probe

SECONDS, FPS, SIZE = 60, 16, (832, 480)
LIMIT = 10 * 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


class PeakRss:
    """Samples the process's resident set every 5 ms from a thread; peak above the start."""

    def __init__(self) -> None:
        self.start = self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> PeakRss:
        self.start = self.peak = _rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def delta(self) -> int:
        return self.peak - self.start


def generate(path: Path) -> None:
    """A moving gradient under cycling film-grain noise, with a 220 Hz tone; x264 crf 14."""
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(SIZE),
            Image.radial_gradient("L").resize(SIZE),
            Image.linear_gradient("L").rotate(90).resize(SIZE),
        ),
    )
    grain = [Image.effect_noise(SIZE, 40).convert("RGB") for _ in range(8)]
    rate = 44_100
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        video.options = {"crf": "14", "preset": "ultrafast"}
        audio = out.add_stream("aac", rate=rate, layout="mono")
        per_frame = rate // FPS
        for i in range(SECONDS * FPS):
            image = Image.blend(ImageChops.offset(base, i * 6, i * 2), grain[i % len(grain)], 0.35)
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            out.mux(video.encode(frame))
            start = i * per_frame
            samples = [
                round(8000 * math.sin(2 * math.pi * 220 * (start + n) / rate))
                for n in range(per_frame)
            ]
            sound = av.AudioFrame(format="s16", layout="mono", samples=per_frame)
            sound.planes[0].update(struct.pack(f"<{per_frame}h", *samples))
            sound.sample_rate, sound.pts, sound.time_base = rate, start, Fraction(1, rate)
            out.mux(audio.encode(sound))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))


def decode_all(path: Path) -> None:
    with av.open(str(path)) as container:
        container.streams.video[0].thread_type = "AUTO"
        for _ in container.decode(video=0, audio=0):
            pass


def measure(action: Callable[[], object]) -> tuple[float, int, object]:
    with PeakRss() as rss:
        start = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - start
    return elapsed, rss.delta, result


def main() -> None:
    mb = 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        src, dest = Path(tmp) / "source.mp4", Path(tmp) / "fitted.mp4"
        started = time.perf_counter()
        generate(src)
        info = asyncio.run(probe(src))
        print(
            f"source: {info.duration:.1f} s, {info.width}x{info.height} @ {info.fps:g} fps, "
            f"{info.size_bytes / mb:.1f} MiB, audio={info.has_audio} "
            f"(generated in {time.perf_counter() - started:.1f} s); {os.cpu_count()} CPUs"
        )
        decode_s, decode_mem, _ = measure(lambda: decode_all(src))
        fit_s, fit_mem, result = measure(lambda: asyncio.run(fit_video(src, dest, LIMIT)))
        print(f"(a) decode only : {decode_s:6.2f} s, peak RSS +{decode_mem / mb:6.1f} MiB")
        print(f"(b) fit_video   : {fit_s:6.2f} s, peak RSS +{fit_mem / mb:6.1f} MiB")
        print(
            f"ratios b/a      : time x{fit_s / decode_s:.1f}, "
            f"memory x{fit_mem / max(decode_mem, 1):.1f}"
        )
        print(f"fit result      : {result}")
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            "method: wall time with perf_counter; memory is the peak resident set size "
            "(/proc/self/statm, sampled every 5 ms from a thread) minus the RSS when the "
            "phase started, so it includes FFmpeg/x264 buffers that tracemalloc cannot see. "
            f"Process-lifetime ru_maxrss for reference: {maxrss:.0f} MiB."
        )


if __name__ == "__main__":
    main()
