"""Benchmark: how much slower and hungrier is `fit_video` than plainly decoding the same file,
and what does the picture lose?

Run from the repository root: `python -m bench.fit_video`. It generates a 60-second 832x480
25 fps H.264 + AAC clip that looks like footage (a slow camera pan over a textured scene, a
subject crossing it; crf 10, well over the limit, so fitting under 10 MiB must re-encode),
then measures in the same process: decoding every frame, and `fit_video(..., 10 MiB)` with
the preset it uses now and, beside it, the presets used before. Each fit's quality is its
mean PSNR against the source at the delivered size (every 25th frame).
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
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from bot.media.video import PRESET, FitResult, fit_video, probe

SECONDS, FPS, SIZE = 60, 25, (832, 480)
BEFORE = (
    "veryfast",
    "superfast",
)  # the preset used until now, and one between  # the preset used until now, measured beside it
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


def scene() -> tuple[Image.Image, Image.Image]:
    """A wide textured backdrop (gradients, soft shapes, fine static texture) and a sprite."""
    width, height = SIZE[0] * 2, SIZE[1] + 200
    backdrop = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize((width, height)),
            Image.radial_gradient("L").resize((width, height)),
            Image.linear_gradient("L").rotate(90).resize((width, height)),
        ),
    )
    draw = ImageDraw.Draw(backdrop)
    for n in range(40):  # trees, rocks: soft-edged shapes across the whole backdrop
        x, y, r = (n * 97) % width, (n * 53) % height, 20 + (n * 37) % 60
        draw.ellipse((x - r, y - r, x + r, y + r), fill=((n * 40) % 256, 90 + n % 120, 60))
    backdrop = backdrop.filter(ImageFilter.GaussianBlur(2))
    texture = Image.effect_noise((width, height), 24).convert("RGB")
    backdrop = Image.blend(backdrop, texture, 0.25)  # grass, fur: detail that pans with it
    sprite = Image.new("RGB", (120, 120), (230, 200, 160))
    return backdrop, sprite


def generate(path: Path) -> None:
    """A 25 fps clip that looks like footage: a slow camera pan over a textured scene with a
    subject walking across, and a 220 Hz tone; x264 crf 14 (far over the limit)."""
    backdrop, sprite = scene()
    mask = Image.new("L", sprite.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, *sprite.size), fill=255)
    rate = 44_100
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = *SIZE, "yuv420p"
        video.options = {"crf": "10", "preset": "ultrafast"}
        audio = out.add_stream("aac", rate=rate, layout="mono")
        per_frame = rate // FPS
        for i in range(SECONDS * FPS):
            x = int(
                (backdrop.width - SIZE[0]) * (0.5 - 0.5 * math.cos(i / (SECONDS * FPS) * math.pi))
            )
            y = int(100 + 60 * math.sin(i / 90))
            image = backdrop.crop((x, y, x + SIZE[0], y + SIZE[1]))
            walk = (int(i * 3) % (SIZE[0] + 120) - 120, 300 + int(12 * math.sin(i / 4)))
            image.paste(sprite, walk, mask)
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


def psnr(src: Path, fitted: Path, every: int = 25) -> float:
    """Mean PSNR (dB) of every `every`-th frame of `fitted` against `src` at `fitted`'s size."""
    values = []
    with av.open(str(src)) as a, av.open(str(fitted)) as b:
        pairs = zip(a.decode(video=0), b.decode(video=0), strict=False)
        for n, (original, result) in enumerate(pairs):
            if n % every:
                continue
            want = result.to_image()
            have = original.to_image().resize(want.size, Image.Resampling.BILINEAR)
            rms = ImageStat.Stat(ImageChops.difference(have, want)).rms
            mse = sum(r * r for r in rms) / len(rms)
            values.append(99.0 if mse == 0 else 10 * math.log10(255**2 / mse))
    return sum(values) / len(values)


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
        print(f"decode only          : {decode_s:6.2f} s, peak RSS +{decode_mem / mb:6.1f} MiB")
        for preset in dict.fromkeys((PRESET, *BEFORE)):
            fit_s, fit_mem, result = measure(
                lambda preset=preset: asyncio.run(fit_video(src, dest, LIMIT, preset=preset))
            )
            assert isinstance(result, FitResult) and result.info is not None
            label = f"fit, {preset}" + (" (now)" if preset == PRESET else "")
            print(
                f"{label:<21}: {fit_s:6.2f} s, peak RSS +{fit_mem / mb:6.1f} MiB;"
                f" time x{fit_s / decode_s:.1f}, memory x{fit_mem / max(decode_mem, 1):.1f}"
                f" of decoding; PSNR {psnr(src, dest):.1f} dB;"
                f" {result.info.width}x{result.info.height}, {result.info.size_bytes / mb:.1f} MiB,"
                f" audio={result.info.has_audio}"
            )
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            "method: wall time with perf_counter; memory is the peak resident set size "
            "(/proc/self/statm, sampled every 5 ms from a thread) minus the RSS when the "
            "phase started, so it includes FFmpeg/x264 buffers that tracemalloc cannot see. "
            f"Process-lifetime ru_maxrss for reference: {maxrss:.0f} MiB."
        )


if __name__ == "__main__":
    main()
