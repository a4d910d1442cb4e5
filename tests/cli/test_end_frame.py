"""`--end`: the last frame of an image-to-video job, through the real CLI and a fake host."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes, wav_bytes
from tests.cli.test_cli import wanbot, write_config
from workflows.schema import bundled_object_info


async def test_the_end_frame_is_uploaded_fitted_and_bound(tmp_path: Path) -> None:
    start, end = tmp_path / "first.png", tmp_path / "last.png"
    start.write_bytes(png_bytes(640, 360))
    end.write_bytes(png_bytes(1000, 700))  # another shape: fitted to the video's size
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        args = ("generate", start, "a door opens", "--end", end, "--steps", "4")
        result = await wanbot(*args, "--config", config, cwd=tmp_path)
        assert result.code == 0, result.err
        (prompt,) = fake.prompts
        uploads = dict(fake.uploads)
    encode = next(n for n in prompt.values() if n["class_type"] == "WanVideoImageToVideoEncode")
    resize = prompt[encode["inputs"]["end_image"][0]]
    loader = prompt[resize["inputs"]["image"][0]]
    assert loader["class_type"] == "LoadImage" and resize["class_type"] == "ImageResizeKJv2"
    width, height = encode["inputs"]["width"], encode["inputs"]["height"]
    assert (resize["inputs"]["width"], resize["inputs"]["height"]) == (width, height)
    sent = Image.open(io.BytesIO(uploads[loader["inputs"]["image"]]))
    assert sent.size == (width, height) == (832, 480)
    record = json.loads(Path(result.out.strip()).with_suffix(".json").read_text())
    assert record["request"]["inputs"]["end"] == str(end.resolve())  # --from re-runs it


async def test_without_end_the_nodes_are_dropped_and_other_modes_refuse_it(
    tmp_path: Path,
) -> None:
    image, end, speech = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "s.wav"
    image.write_bytes(png_bytes(320, 240))
    end.write_bytes(png_bytes(320, 240))
    speech.write_bytes(wav_bytes(seconds=0.5))
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        plain = await wanbot(
            "generate", image, "x", "--steps", "2", "--config", config, cwd=tmp_path
        )
        talk = await wanbot(
            "generate", image, "--mode", "infinitetalk", "--audio", speech, "--end", end,
            "--config", config, cwd=tmp_path,
        )  # fmt: skip
        (prompt,) = fake.prompts
    assert plain.code == 0, plain.err
    encode = next(n for n in prompt.values() if n["class_type"] == "WanVideoImageToVideoEncode")
    assert "end_image" not in encode["inputs"]
    assert sum(n["class_type"] == "LoadImage" for n in prompt.values()) == 1
    assert talk.code != 0 and "end frame works with image to video" in talk.err
    assert len(talk.err.strip().splitlines()) == 1
