"""End to end: the real `wanbot` command in a subprocess against a fake ComfyUI on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from fakes.comfy_schemas import animate2_schema
from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes, probe, wav_bytes, write_mp4
from workflows.schema import bundled_object_info
from workflows.validate import validate_prompt

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


async def wanbot(*args: str | Path, cwd: Path) -> Result:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *map(str, args),
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


def write_config(tmp_path: Path, url: str, request_timeout: float = 10.0, comfy: str = "") -> Path:
    """A config for one fake host; `comfy`: more `[comfy]` lines."""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[comfy]
request_timeout = {request_timeout}
{comfy}

[[comfy.hosts]]
name = "fake"
url = "{url}"

[storage]
outputs = "{tmp_path / "outputs"}"
jobs = "{tmp_path / "jobs"}"
database = "{tmp_path / "wanbot.db"}"
"""
    )
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(640, 360))
    audio = tmp_path / "speech.wav"
    audio.write_bytes(wav_bytes(seconds=1.2))
    pose = tmp_path / "pose.mp4"
    write_mp4(pose, width=160, height=96, frames=12, fps=16)
    return {"image": image, "audio": audio, "pose": pose}


async def test_generate_i2v_archives_mp4_and_json(tmp_path: Path, inputs: dict[str, Path]) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot(
            "generate",
            inputs["image"],
            "a cat walking",
            "--steps",
            "12",
            "--seed",
            "42",
            "--config",
            config,
            cwd=tmp_path,
        )
        assert result.code == 0, result.err
        video = Path(result.out.strip())
        assert video.parent == tmp_path / "outputs" / "i2v"
        assert video.name.startswith("i2v_i2v_") and video.suffix == ".mp4"
        assert probe(video).frames > 0
        record = json.loads(video.with_suffix(".json").read_text())
        assert record["request"]["prompt"] == "a cat walking"
        assert record["request"]["params"]["seed"] == 42
        assert record["request"]["params"]["steps"] == 12
        assert record["host"] == "fake"
        assert record["prompt_id"]
        assert record["workflow"] == fake.prompts[0]
        shown = probe(video)
        assert record["video"]["frames"] == shown.frames
        assert (record["video"]["width"], record["video"]["height"]) == (shown.width, shown.height)
        assert record["models"]["i2v"] == "Wan2_1-I2V-14B-480P_fp8_e4m3fn.safetensors"
        assert record["timings"]["gpu_seconds"] >= 0
        # The image reached ComfyUI under a collision-proof name that the workflow uses.
        loaders = [n for n in fake.prompts[0].values() if n["class_type"] == "LoadImage"]
        assert loaders[0]["inputs"]["image"] in fake.uploads
        assert "step 12/12" in result.err or "100%" in result.err


async def test_generate_infinitetalk_and_animate(tmp_path: Path, inputs: dict[str, Path]) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        talk = await wanbot(
            "generate",
            inputs["image"],
            "a woman talking",
            "--mode",
            "infinitetalk",
            "--audio",
            inputs["audio"],
            "--config",
            config,
            cwd=tmp_path,
        )
        assert talk.code == 0, talk.err
        assert Path(talk.out.strip()).name.startswith("i2v_infinitetalk_")
        animate = await wanbot(
            "generate",
            inputs["image"],
            "a dancer",
            "--mode",
            "animate",
            "--pose",
            inputs["pose"],
            "--config",
            config,
            cwd=tmp_path,
        )
        assert animate.code == 0, animate.err
        assert Path(animate.out.strip()).name.startswith("i2v_animate_")
        classes = [{n["class_type"] for n in p.values()} for p in fake.prompts]
        assert "MultiTalkWav2VecEmbeds" in classes[0]
        assert "WanVideoAnimateEmbeds" in classes[1]
        # 1.2 s of speech at 25 fps -> 30 frames, rounded up to 4n+1 = 33.
        embeds = next(
            n for n in fake.prompts[0].values() if n["class_type"] == "MultiTalkWav2VecEmbeds"
        )
        assert embeds["inputs"]["num_frames"] == 33
        animate_record = json.loads(Path(animate.out.strip()).with_suffix(".json").read_text())
        # 12 pose frames -> the largest 4n+1 that has a pose for every frame.
        assert animate_record["request"]["params"]["frames"] == 9
        assert "9 of the 12 pose frames" in animate.err


async def test_from_json_reproduces_the_request(tmp_path: Path, inputs: dict[str, Path]) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        first = await wanbot(
            "generate", inputs["image"], "a cat", "--cfg", "4.5", "--config", config, cwd=tmp_path
        )
        assert first.code == 0, first.err
        again = await wanbot(
            "generate",
            "--from",
            Path(first.out.strip()).with_suffix(".json"),
            "--config",
            config,
            cwd=tmp_path,
        )
        assert again.code == 0, again.err
        assert Path(again.out.strip()) != Path(first.out.strip())
        strip = [
            {k: v for k, v in p.items() if v["class_type"] not in ("LoadImage",)}
            for p in fake.prompts
        ]
        assert strip[0] == strip[1]


async def test_from_json_is_checked_against_todays_limits(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        first = await wanbot(
            "generate", inputs["image"], "a cat", "--steps", "8", "--config", config, cwd=tmp_path
        )
        assert first.code == 0, first.err
        # The operator lowers the step limit; the archived job asked for more.
        config.write_text(config.read_text() + "\n[limits]\nmax_steps = 6\n")
        record = Path(first.out.strip()).with_suffix(".json")
        again = await wanbot("generate", "--from", record, "--config", config, cwd=tmp_path)
        assert again.code == 1
        assert "steps 8 is out of range: use a value from 1 to 6" in again.err
        assert len(fake.prompts) == 1


async def test_workflow_prints_valid_prompt_offline(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    result = await wanbot(
        "workflow",
        inputs["image"],
        "a cat",
        "--steps",
        "8",
        "--scheduler",
        "euler",
        "--config",
        tmp_path / "absent.toml",
        cwd=tmp_path,
    )
    assert result.code == 0, result.err
    prompt = json.loads(result.out)
    assert validate_prompt(prompt, bundled_object_info()) == []
    loader = next(n for n in prompt.values() if n["class_type"] == "LoadImage")
    assert loader["inputs"]["image"] == "cat.png"
    sampler = next(n for n in prompt.values() if n["class_type"] == "WanVideoSampler")
    assert (sampler["inputs"]["steps"], sampler["inputs"]["scheduler"]) == (8, "euler")


async def test_check_reports_reachable_missing_and_down(tmp_path: Path) -> None:
    schema = bundled_object_info()
    del schema["MultiTalkWav2VecEmbeds"]
    async with FakeComfy(object_info=schema) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot("check", "--config", config, cwd=tmp_path)
    assert result.code == 1
    assert "reachable, but" in result.out
    assert "MultiTalkWav2VecEmbeds" in result.out
    down = await wanbot("check", "--config", config, cwd=tmp_path)
    assert down.code == 1
    assert "unreachable" in down.out


@pytest.mark.parametrize(
    ("make", "args", "fragment"),
    [
        ("text_png", (), "not an image"),
        ("empty_png", (), "empty"),
        ("image", ("--frames", "100000"), "frames 100000 is out of range"),
        ("image", ("--steps", "-1"), "steps -1 is out of range"),
        ("image", ("--scheduler", "res_2m"), "scheduler 'res_2m' is not available"),
        ("image", ("--mode", "infinitetalk", "--audio", "NOTAUDIO"), "audio"),
    ],
)
async def test_bad_inputs_fail_with_one_line_reason(
    tmp_path: Path, inputs: dict[str, Path], make: str, args: tuple[str, ...], fragment: str
) -> None:
    files = {
        "text_png": tmp_path / "notes.png",
        "empty_png": tmp_path / "empty.png",
        "image": inputs["image"],
    }
    files["text_png"].write_text("hello, I am text")
    files["empty_png"].write_bytes(b"")
    not_audio = tmp_path / "song.mp3"
    not_audio.write_text("definitely not audio")
    args = tuple(str(not_audio) if a == "NOTAUDIO" else a for a in args)
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot("generate", files[make], "x", *args, "--config", config, cwd=tmp_path)
        assert fake.prompts == []
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wanbot: ")
    assert fragment in lines[0].lower() or fragment in lines[0]


async def test_generation_failure_and_host_down(tmp_path: Path, inputs: dict[str, Path]) -> None:
    async with FakeComfy(object_info=bundled_object_info(), fail_with="CUDA out of memory") as fake:
        config = write_config(tmp_path, fake.url)
        failed = await wanbot("generate", inputs["image"], "x", "--config", config, cwd=tmp_path)
    assert failed.code == 1
    assert "CUDA out of memory" in failed.err
    down = await wanbot("generate", inputs["image"], "x", "--config", config, cwd=tmp_path)
    assert down.code == 1
    assert "wanbot:" in down.err and "unreachable" in down.err.lower()
    assert not (tmp_path / "outputs" / "i2v").exists() or not list(
        (tmp_path / "outputs" / "i2v").iterdir()
    )


async def test_bearer_token_from_environment(tmp_path: Path, inputs: dict[str, Path]) -> None:
    async with FakeComfy(object_info=bundled_object_info(), token="t0ken") as fake:
        config = write_config(tmp_path, fake.url)
        os.environ["WANBOT_COMFY_TOKEN_FAKE"] = "t0ken"
        try:
            ok = await wanbot("generate", inputs["image"], "x", "--config", config, cwd=tmp_path)
        finally:
            del os.environ["WANBOT_COMFY_TOKEN_FAKE"]
        assert ok.code == 0, ok.err
        denied = await wanbot("generate", inputs["image"], "x", "--config", config, cwd=tmp_path)
    assert denied.code == 1
    assert "token" in denied.err.lower()


async def test_generate_animate2_moves_the_photo_like_the_video(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    async with FakeComfy(object_info=animate2_schema(bundled_object_info())) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot(
            "generate", inputs["image"], "a dancer", "--mode", "animate2",
            "--video", inputs["pose"], "--config", config, cwd=tmp_path,
        )  # fmt: skip
    assert result.code == 0, result.err
    video = Path(result.out.strip())
    assert video.name.startswith("i2v_animate2_")
    record = json.loads(video.with_suffix(".json").read_text())
    assert record["request"]["mode"] == "animate2"
    assert record["request"]["params"]["frames"] == probe(video).frames == 9
    (prompt,) = fake.prompts
    assert "WanAnimate2ToVideo" in {n["class_type"] for n in prompt.values()}
    loaded = [n["inputs"]["file"] for n in prompt.values() if n["class_type"] == "LoadVideo"]
    assert loaded and loaded[0] in fake.uploads  # the prepared clip, uploaded


async def test_generate_animate2_on_a_host_without_its_model_says_what_is_missing(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        result = await wanbot(
            "generate", inputs["image"], "--mode", "animate2", "--video", inputs["pose"],
            "--config", config, cwd=tmp_path,
        )  # fmt: skip
    assert result.code == 1 and "Traceback" not in result.err
    assert "wan_animate_2" in result.err and fake.prompts == []
