"""`wanbot generate a.png b.png "prompt" --batch 2`: one job per image, N per image with
consecutive seeds, each archived path printed."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes
from tests.cli.test_cli import wanbot, write_config
from workflows.schema import bundled_object_info


async def test_several_images_times_a_batch_make_one_job_each(tmp_path: Path) -> None:
    images = []
    for name in ("a.png", "b.jpg"):
        path = tmp_path / name
        path.write_bytes(png_bytes(320, 240))
        images.append(path)
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot(
            "generate", *images, "a cat", "--batch", "2", "--seed", "40", "--steps", "2",
            "--config", config, cwd=tmp_path,
        )  # fmt: skip
        too_many = await wanbot(
            "generate", images[0], "x", "--batch", "5", "--config", config, cwd=tmp_path
        )
    assert result.code == 0, result.err
    paths = [Path(line) for line in result.out.split()]
    assert len(paths) == 4 and all(p.is_file() for p in paths)
    records = [json.loads(p.with_suffix(".json").read_text()) for p in paths]
    assert [r["request"]["params"]["seed"] for r in records] == [40, 41, 40, 41]
    assert [Path(r["request"]["inputs"]["image"]).name for r in records] == [
        "a.png", "a.png", "b.jpg", "b.jpg",
    ]  # fmt: skip
    assert all(r["request"]["prompt"] == "a cat" for r in records)
    assert len(fake.prompts) == 4
    assert too_many.code != 0 and "batch 5 is out of range: use a value from 1 to 4" in too_many.err
