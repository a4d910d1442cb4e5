"""`wanbot generate --preview DIR`: the newest preview of the running job, for a watcher."""

from __future__ import annotations

from pathlib import Path

from fakes.comfy_previews import preview_jpeg
from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes
from tests.cli.test_cli import wanbot, write_config
from workflows.schema import bundled_object_info


async def test_generate_writes_the_newest_preview_into_a_folder(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(320, 240))
    watched = tmp_path / "watch"
    async with FakeComfy(object_info=bundled_object_info(), steps=4) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot(
            "generate", image, "a cat", "--steps", "4", "--frames", "5", "--config", config,
            "--preview", watched, cwd=tmp_path,
        )  # fmt: skip
    assert result.code == 0, result.err
    assert (watched / "preview.jpg").read_bytes() == preview_jpeg(4)
    assert [p.name for p in watched.iterdir()] == ["preview.jpg"]
