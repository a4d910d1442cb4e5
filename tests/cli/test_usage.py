"""Usage the command line refuses instead of silently ignoring, and spellings it accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.media import png_bytes
from tests.cli.test_cli import Result, wanbot


def _image(tmp_path: Path) -> Path:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(320, 240))
    return image


def usage_error(result: Result) -> str:
    """The `wanbot ...: error: ...` line argparse prints for wrong usage (exit 2)."""
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    return result.err.strip().splitlines()[-1]


async def test_audio_without_infinitetalk_is_a_usage_error(tmp_path: Path) -> None:
    image = _image(tmp_path)
    result = await wanbot("workflow", image, "a cat", "--audio", image, cwd=tmp_path)
    assert usage_error(result).endswith(
        "error: --audio is for --mode infinitetalk, and this job is --mode i2v: "
        "add --mode infinitetalk, or leave out --audio"
    )


async def test_a_video_without_animate2_is_a_usage_error(tmp_path: Path) -> None:
    image = _image(tmp_path)
    result = await wanbot("workflow", image, "a cat", "--video", image, cwd=tmp_path)
    assert usage_error(result).endswith(
        "error: --video is for --mode animate2, and this job is --mode i2v: "
        "add --mode animate2, or leave out --video"
    )


@pytest.mark.parametrize(
    ("twice", "fragment"),
    [
        (["--steps", "2", "--steps", "3"], "--steps is given twice (2 and 3): give it once"),
        (
            ["--mode", "i2v", "--mode", "animate"],
            "--mode is given twice (i2v and animate): give it once",
        ),
    ],
)
async def test_an_option_given_twice_is_a_usage_error(
    tmp_path: Path, twice: list[str], fragment: str
) -> None:
    result = await wanbot("workflow", _image(tmp_path), "a cat", *twice, cwd=tmp_path)
    assert usage_error(result).endswith(fragment)


async def test_split_with_standard_quality_is_refused(tmp_path: Path) -> None:
    result = await wanbot("workflow", _image(tmp_path), "a cat", "--split", "3", cwd=tmp_path)
    assert result.code == 1
    assert result.err.strip() == (
        "wanbot: --split applies to --quality fast only: add --quality fast, or leave out --split."
    )


@pytest.mark.parametrize("dash", ["\u2014", "\u2013"])
async def test_a_phone_dash_is_an_option_as_the_readme_says(tmp_path: Path, dash: str) -> None:
    args = ("workflow", _image(tmp_path), "a", "cat", f"{dash}steps", "7")
    result = await wanbot(*args, cwd=tmp_path)
    assert result.code == 0, result.err
    prompt = json.loads(result.out)
    sampler = next(n for n in prompt.values() if n["class_type"] == "WanVideoSampler")
    assert sampler["inputs"]["steps"] == 7
    texts = [n["inputs"].get("positive_prompt") for n in prompt.values()]
    assert "a cat" in texts  # the option is not prompt text


@pytest.mark.parametrize("order", [("-v", "init"), ("init", "-v")])
async def test_verbose_before_or_after_the_command(tmp_path: Path, order: tuple[str, str]) -> None:
    config = tmp_path / "config.toml"
    result = await wanbot(*order, "--config", config, cwd=tmp_path)
    assert result.code == 0, result.err
    assert config.exists()
