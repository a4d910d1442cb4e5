"""`wanbot generate` fetches a video cut short again, as the engine does (one run path)."""

from __future__ import annotations

from pathlib import Path

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes, probe
from tests.cli.test_cli import wanbot, write_config
from workflows.schema import bundled_object_info


async def test_generate_fetches_a_download_cut_short_again(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(640, 360))
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.view_truncations = 1
        fake.truncated_views_announce_length = False  # only the video check can tell
        config = write_config(tmp_path, fake.url)
        result = await wanbot("generate", image, "a cat", "--config", config, cwd=tmp_path)
        assert result.code == 0, result.err
        video = Path(result.out.strip())
        assert probe(video).frames > 0
        assert len(fake.accepted) == 1  # fetched again, not run again
        assert sum(1 for r in fake.requests if r.path == "/view") == 2
