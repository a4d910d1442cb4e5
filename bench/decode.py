"""Benchmark: what decoding pose frames at the needed size saves over decoding them whole.

Run from the repository root: `python -m bench.decode`. It writes a zip of 10 JPEG photos of
6000x4000 (24 megapixels each) and packs it as 832x480 pose frames with `prepare_frames`,
once as shipped (JPEG draft at 1/4 scale, then a box reduce) and once with both switched off
(every photo decoded and converted at full size), reporting time and peak RSS of each.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

from bench.fit_video import PeakRss
from bot.config import Limits
from bot.media import decode, frames
from bot.media.frames import prepare_frames

COUNT, SIZE, TARGET = 10, (6000, 4000), (832, 480)
LIMITS = Limits(max_input_bytes=200 * 1024 * 1024)


def _photos(folder: Path) -> Path:
    noise = Image.effect_noise(SIZE, 60).convert("RGB")
    tint = Image.linear_gradient("L").resize(SIZE).convert("RGB")
    photo = Image.blend(noise, tint, 0.5)
    src = folder / "pose.zip"
    with zipfile.ZipFile(src, "w", zipfile.ZIP_STORED) as archive:
        for index in range(COUNT):
            path = folder / f"{index:03d}.jpg"
            photo.save(path, format="JPEG", quality=90)
            archive.write(path, path.name)
    return src


@contextmanager
def _whole() -> Iterator[None]:
    """Decode every image at full size: no JPEG draft, no early reduce."""
    saved = decode.draft, frames.draft, decode.REDUCING_GAP
    decode.draft = frames.draft = lambda *args, **kwargs: None  # type: ignore[assignment]
    decode.REDUCING_GAP = 10**9
    try:
        yield
    finally:
        decode.draft, frames.draft, decode.REDUCING_GAP = saved


def _run(src: Path, dest: Path) -> tuple[float, int]:
    with PeakRss() as rss:
        began = time.perf_counter()
        asyncio.run(
            prepare_frames([src], dest, width=TARGET[0], height=TARGET[1], fps=16, limits=LIMITS)
        )
        took = time.perf_counter() - began
    return took, rss.delta


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = _photos(folder)
        mib = 1024 * 1024
        print(f"{COUNT} JPEGs of {SIZE[0]}x{SIZE[1]} as {TARGET[0]}x{TARGET[1]} pose frames")
        shipped = _run(src, folder / "a.mp4")
        with _whole():
            whole = _run(src, folder / "b.mp4")
        for name, (took, peak) in (("at the needed size", shipped), ("whole", whole)):
            print(f"  {name:>18}: {took:5.2f} s, +{peak / mib:4.0f} MiB RSS")


if __name__ == "__main__":
    main()
