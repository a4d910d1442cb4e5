"""`wanbot generate` fetches a video cut short again, as the engine does (one run path)."""

from __future__ import annotations

from pathlib import Path

from fakes.comfy_faults import Fault
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


async def test_generate_fetches_a_finished_video_again_after_fetch_errors(
    tmp_path: Path,
) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(640, 360))
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.view_faults = [Fault.ERROR, Fault.BAD_JSON]  # a 500, then a 200 that is no video
        config = write_config(tmp_path, fake.url)
        result = await wanbot("generate", image, "a cat", "--config", config, cwd=tmp_path)
        assert result.code == 0, result.err
        assert probe(Path(result.out.strip())).frames > 0
        assert len(fake.faulted) == 2
        assert _posts(fake) == 1  # fetched again, never sent again


async def test_generate_gives_up_on_a_trickling_host_with_one_clear_line(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(640, 360))
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.view_faults = [Fault.TRICKLE] * 100  # 10 bytes at a time, no read ever times out
        comfy = "upload_timeout = 0.5\nfetch_retry_seconds = 1.0"
        config = write_config(tmp_path, fake.url, comfy=comfy)
        result = await wanbot("generate", image, "a cat", "--config", config, cwd=tmp_path)
        assert result.code == 1
        assert "Traceback" not in result.err
        line = result.err.strip().splitlines()[-1]  # after a warning for each failed fetch
        assert line.startswith(
            "wanbot: The video was made, but it could not be fetched from the GPU host fake"
        )
        assert fake.accepted[0] in line  # the prompt, to fetch it later
        assert _posts(fake) == 1


def _posts(fake: FakeComfy) -> int:
    return sum(1 for r in fake.requests if (r.method, r.path) == ("POST", "/prompt"))
