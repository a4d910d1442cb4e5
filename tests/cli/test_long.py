"""`wanbot generate` of a long video: its clips one after the other, each continuing the last,
joined into one archived MP4 whose record names every clip."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.comfy_schemas import svi_schema
from fakes.comfy_server import FakeComfy
from fakes.media import clip_numbers, png_bytes
from tests.cli.test_cli import wanbot, write_config

WITH_SVI = svi_schema()


async def test_generate_makes_a_long_video_clip_by_clip(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(320, 240))
    async with FakeComfy(object_info=WITH_SVI, scale=1.0) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot(
            "generate", image, "a cat wakes up | it stretches | it walks away", "--frames", "21",
            "--size", "256x256", "--steps", "4", "--length", "2.5s", "--seed", "7",
            "--config", config, cwd=tmp_path,
        )  # fmt: skip
    assert result.code == 0, result.err
    assert [line for line in result.err.splitlines() if line.startswith("clip ")] == [
        "clip 1 of 3",
        "clip 2 of 3",
        "clip 3 of 3",
    ]
    (path,) = [Path(line) for line in result.out.splitlines()]
    numbers = clip_numbers(path)
    assert len(numbers) == 40 and numbers[0] == 0 and numbers[-1] == 2  # 2.5 s at 16 fps
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    clips = record["lineage"]["clips"]
    assert [c["seed"] for c in clips] == [7, 8, 9]
    assert [c["prompt"] for c in clips] == ["a cat wakes up", "it stretches", "it walks away"]
    assert len(fake.accepted) == 3
