"""`wanbot workflow`: offline against the bundled schema, or against a live `--host`."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes
from tests.cli.test_cli import wanbot, write_config
from workflows.hardware import Models
from workflows.schema import bundled_object_info
from workflows.validate import validate_prompt


def _image(tmp_path: Path) -> Path:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(320, 240))
    return image


async def test_fast_quality_offline_takes_model_names_from_the_config(tmp_path: Path) -> None:
    image = _image(tmp_path)
    config = tmp_path / "absent.toml"
    result = await wanbot(
        "workflow", image, "a cat", "--quality", "fast", "--config", config, cwd=tmp_path
    )
    assert result.code == 0, result.err
    prompt = json.loads(result.out)
    models = {v for node in prompt.values() for v in node["inputs"].values() if isinstance(v, str)}
    assert {Models().i2v_fast_high, Models().i2v_fast_low} <= models  # the experts, as configured
    # The graph fits the bundled schema; only the model files are the host's business.
    assert validate_prompt(prompt, bundled_object_info(), model_files=False) == []
    assert "host" not in result.err.lower()


async def test_with_host_the_live_schema_is_checked_and_that_host_named(tmp_path: Path) -> None:
    image = _image(tmp_path)
    async with FakeComfy(object_info=bundled_object_info()) as fake:  # no Wan2.2 experts
        config = write_config(tmp_path, fake.url)
        args = ("workflow", image, "a cat", "--quality", "fast", "--host", "fake")
        result = await wanbot(*args, "--config", config, cwd=tmp_path)
        asked = [r.path for r in fake.requests]
    assert result.code == 1
    assert result.err.startswith("wanbot: Host fake cannot run this workflow")
    assert Models().i2v_fast_high in result.err
    assert asked == ["/object_info"]  # contacted, and only read


async def test_with_host_a_host_that_has_everything_gets_its_prompt(tmp_path: Path) -> None:
    image = _image(tmp_path)
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot(
            "workflow", image, "a cat", "--host", "fake", "--config", config, cwd=tmp_path
        )
    assert result.code == 0, result.err
    assert validate_prompt(json.loads(result.out), bundled_object_info()) == []
