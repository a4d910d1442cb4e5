"""A host's input folder fills up with our uploads: later jobs and checks must still pass.

ComfyUI lists its input folder in the loaders' combos (`VHS_LoadVideo.video` has no upload
flag), so after the first WanAnimate job `/object_info` names that job's pose video.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from comfy import ComfyClient
from fakes.comfy_schemas import animate2_schema, native_i2v_schema, native_schema
from fakes.comfy_server import FakeComfy
from fakes.comfy_validation import with_models
from fakes.media import png_bytes, write_mp4
from tests.cli.test_cli import wanbot, write_config
from workflows.hardware import Models
from workflows.schema import bundled_object_info


def loader_list(object_info: dict[str, Any], class_type: str, name: str) -> list[str]:
    spec = object_info[class_type]["input"]["required"][name]
    return list(spec[0]) if isinstance(spec[0], list) else list(spec[1]["options"])


async def test_the_same_animate_job_runs_twice_on_one_host(tmp_path: Path) -> None:
    image = tmp_path / "ref.png"
    image.write_bytes(png_bytes(320, 192))
    pose = tmp_path / "pose.mp4"
    write_mp4(pose, width=160, height=96, frames=9, fps=16)
    args = ("generate", image, "a dancer", "--mode", "animate", "--pose", pose)
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        first = await wanbot(*args, "--config", config, cwd=tmp_path)
        assert first.code == 0, first.err
        # The host now lists the first job's pose video, as a real one does.
        async with ComfyClient(fake.url) as client:
            info = await client.object_info()
            assert any(n.endswith(".mp4") for n in loader_list(info, "VHS_LoadVideo", "video"))
        second = await wanbot(*args, "--config", config, cwd=tmp_path)
        assert second.code == 0, second.err
        again = await wanbot(
            "generate",
            "--from",
            Path(first.out.strip()).with_suffix(".json"),
            "--config",
            config,
            cwd=tmp_path,
        )
    assert again.code == 0, again.err
    assert len(fake.accepted) == 3


async def test_check_passes_after_uploads(tmp_path: Path) -> None:
    pose = tmp_path / "pose.mp4"
    write_mp4(pose, width=160, height=96, frames=9, fps=16)
    speech = tmp_path / "old.wav"
    speech.write_bytes(b"RIFF")
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.uploads["wanbot_earlier.mp4"] = pose.read_bytes()
        fake.uploads["wanbot_earlier.png"] = png_bytes(8, 8)
        fake.uploads["wanbot_earlier.wav"] = speech.read_bytes()
        config = write_config(tmp_path, fake.url)
        result = await wanbot("check", "--config", config, cwd=tmp_path)
    assert result.code == 0, result.out + result.err
    assert "ready for i2v, infinitetalk, animate" in result.out
    # The fast preset's files are optional: named, but the check still passes.
    assert "fast preset (--quality fast): missing" in result.out
    assert Models().i2v_fast_high in result.out


async def test_check_says_the_fast_preset_is_ready_where_its_files_are(tmp_path: Path) -> None:
    models = Models()
    info = with_models(
        bundled_object_info(),
        [models.i2v_fast_high, models.i2v_fast_low],
        [models.fast_lora_high, models.fast_lora_low],
    )
    async with FakeComfy(object_info=info) as fake:
        result = await wanbot("check", "--config", write_config(tmp_path, fake.url), cwd=tmp_path)
    assert result.code == 0 and "fast preset (--quality fast): ready" in result.out
    # The default preset (rtx4090, 24 GB) takes 720p fast jobs.
    assert "fast preset (--quality fast): ready, up to 1280x720" in result.out
    # Long videos need the SVI LoRAs on top: named, optional.
    svi = next(line for line in result.out.splitlines() if "long videos" in line)
    assert "missing" in svi and models.svi_lora_high in svi and models.svi_lora_low in svi


async def test_check_says_a_host_without_the_wrapper_makes_i2v_on_core_nodes(
    tmp_path: Path,
) -> None:
    async with FakeComfy(object_info=native_schema()) as fake:
        result = await wanbot("check", "--config", write_config(tmp_path, fake.url), cwd=tmp_path)
    assert result.code == 0, result.out + result.err
    assert "ready for i2v on ComfyUI's own nodes" in result.out
    assert "fast preset (--quality fast): ready" in result.out
    assert "  infinitetalk: ready" in result.out and "  animate: ready" in result.out
    assert "long videos: need ComfyUI-WanVideoWrapper" in result.out


@pytest.mark.parametrize("core_only", [True, False], ids=["core", "wrapper"])
async def test_check_says_whether_a_host_can_make_animate2(tmp_path: Path, core_only: bool) -> None:
    without = native_schema() if core_only else bundled_object_info()
    lines = []
    for n, info in enumerate([without, animate2_schema(without)]):
        async with FakeComfy(object_info=info) as fake:
            (tmp_path / str(n)).mkdir()
            config = write_config(tmp_path / str(n), fake.url)
            result = await wanbot("check", "--config", config, cwd=tmp_path)
        assert result.code == 0, result.out + result.err  # optional, as the fast preset
        lines.append(next(line for line in result.out.splitlines() if "Wan-Animate-2" in line))
    assert "missing" in lines[0] and Models().animate2 in lines[0]
    assert lines[1].endswith(": ready")


async def test_check_says_which_native_modes_a_host_lacks_files_for(tmp_path: Path) -> None:
    async with FakeComfy(object_info=native_i2v_schema()) as fake:
        result = await wanbot("check", "--config", write_config(tmp_path, fake.url), cwd=tmp_path)
    assert result.code == 0, result.out + result.err  # image to video is ready
    models = Models()
    talk = next(line for line in result.out.splitlines() if line.startswith("  infinitetalk:"))
    animate = next(line for line in result.out.splitlines() if line.startswith("  animate:"))
    assert "missing" in talk and models.native_talk_patch in talk
    assert "missing" in animate and models.native_animate in animate
