"""The real `wanbot` in a subprocess, used wrongly or interrupted: one line, never a traceback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes, probe, write_mp4
from tests.cli.test_cli import ROOT, Result, wanbot, write_config
from workflows.schema import bundled_object_info

MEDIA_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".wav", ".mp3", ".ogg"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(640, 360))
    pose = tmp_path / "dance.mp4"
    write_mp4(pose, width=160, height=96, frames=12, fps=16)
    face = tmp_path / "face.mp4"
    write_mp4(face, width=64, height=64, frames=12, fps=16)
    return {"image": image, "pose": pose, "face": face}


def _default_sigint() -> None:
    """In the child: Ctrl-C as in a terminal, even when this run was started in the background.

    A shell starts background jobs with SIGINT ignored and children inherit that; Python then
    installs no KeyboardInterrupt handler, and the Ctrl-C test would wait forever.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def spawn(
    *args: str | bytes | Path, cwd: Path, stdout: Any = asyncio.subprocess.PIPE, **env: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *(a if isinstance(a, bytes) else str(a) for a in args),
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


async def run(*args: str | bytes | Path, cwd: Path) -> Result:
    proc = await spawn(*args, cwd=cwd)
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode(errors="replace"))


def one_line(result: Result, code: int = 1) -> str:
    """The single `wanbot: ...` line of a failed run (and nothing else on stderr)."""
    assert result.code == code, result.err
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("wanbot: ")
    return lines[0]


def usage_error(result: Result) -> str:
    """The `wanbot ...: error: ...` line argparse prints for wrong usage (exit 2)."""
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert result.err.startswith("usage: wanbot")
    return result.err.strip().splitlines()[-1]


def named_files(prompt: dict[str, Any]) -> set[str]:
    """Every input value of the prompt that names a media file."""
    return {
        value
        for node in prompt.values()
        for value in node["inputs"].values()
        if isinstance(value, str) and Path(value).suffix.lower() in MEDIA_SUFFIXES
    }


# -- item 5: a prompt that is not UTF-8 ---------------------------------------------------


@pytest.mark.parametrize(
    "extra", [(b"a cat \xff",), ("a cat", "--neg", b"blurry \xfe"), (b"a cat \xff", "--seed", "1")]
)
async def test_prompt_that_is_not_utf8_is_refused_before_upload(
    tmp_path: Path, files: dict[str, Path], extra: tuple[str | bytes, ...]
) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        result = await run("generate", files["image"], *extra, "--config", config, cwd=tmp_path)
        assert fake.uploads == {}
        assert fake.prompts == []
    assert "must be valid UTF-8 text" in one_line(result)
    printed = await run("workflow", files["image"], *extra, cwd=tmp_path)
    assert "must be valid UTF-8 text" in one_line(printed)
    assert printed.out == ""


@pytest.fixture
def latin1_name(tmp_path: Path) -> bytes:
    """An image whose file name is not UTF-8 (made on a Latin-1 file system)."""
    odd = os.fsencode(tmp_path) + b"/cat\xff.png"
    Path(os.fsdecode(odd)).write_bytes(png_bytes(64, 64))
    return odd


async def test_file_name_that_is_not_utf8_is_refused_before_upload(
    tmp_path: Path, latin1_name: bytes
) -> None:
    odd = latin1_name
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        result = await run("generate", odd, "a cat", "--config", config, cwd=tmp_path)
        assert fake.uploads == {}
    assert "rename" in one_line(result)


# -- item 7: every file the printed animate prompt names exists ---------------------------


async def test_workflow_animate_writes_its_prepared_inputs(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    folder = tmp_path / "for-comfy"
    result = await run(
        "workflow",
        files["image"],
        "a dancer",
        "--mode",
        "animate",
        "--pose",
        files["pose"],
        "--face",
        files["face"],
        "--inputs-dir",
        folder,
        cwd=tmp_path,
    )
    assert result.code == 0, result.err
    names = named_files(json.loads(result.out))
    assert names == {"image.png", "pose.mp4", "face.mp4"}
    for name in names:
        assert (folder / name).is_file()
        assert f"wrote {folder / name}" in result.err
    assert probe(folder / "pose.mp4").frames >= 9  # the prompt uses the first 9


async def test_workflow_animate_without_inputs_dir_is_a_usage_error(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    result = await run(
        "workflow", files["image"], "x", "--mode", "animate", "--pose", files["pose"], cwd=tmp_path
    )
    assert "--inputs-dir" in usage_error(result)
    assert result.out == ""


async def test_workflow_names_the_users_files_or_the_written_ones(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    plain = await run("workflow", files["image"], "a cat", cwd=tmp_path)
    assert plain.code == 0, plain.err
    assert named_files(json.loads(plain.out)) == {"cat.png"}
    folder = tmp_path / "out"
    written = await run("workflow", files["image"], "a cat", "--inputs-dir", folder, cwd=tmp_path)
    assert written.code == 0, written.err
    assert named_files(json.loads(written.out)) == {"image.png"}
    assert (folder / "image.png").is_file()


async def test_workflow_never_overwrites_an_input(tmp_path: Path) -> None:
    image = tmp_path / "image.png"
    original = png_bytes(640, 360)
    image.write_bytes(original)
    result = await run("workflow", image, "a cat", "--inputs-dir", tmp_path, cwd=tmp_path)
    assert "is one of your inputs" in one_line(result)
    assert image.read_bytes() == original


# -- item 8: --from, broken pipes, usage ---------------------------------------------------


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "No archive record"),
        ("this is not JSON", "is not an archive record"),
        ('{"version": 1}', "is not an archive record"),
        ("folder", "is a folder"),
    ],
)
async def test_from_a_missing_or_broken_record(
    tmp_path: Path, content: str | None, fragment: str
) -> None:
    record = tmp_path / "old.json"
    if content == "folder":
        record.mkdir()
    elif content is not None:
        record.write_text(content)
    # No host answers: the record is read (and refused) before anything is contacted.
    config = write_config(tmp_path, "http://127.0.0.1:9")
    result = await run("generate", "--from", record, "--config", config, cwd=tmp_path)
    assert fragment in one_line(result)


async def test_workflow_into_a_closed_pipe_exits_quietly(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head` that already quit
    try:
        proc = await spawn("workflow", files["image"], "a cat", cwd=tmp_path, stdout=write_end)
    finally:
        os.close(write_end)
    _, err = await proc.communicate()
    assert proc.returncode == 141
    assert b"Traceback" not in err
    assert b"Exception ignored" not in err
    assert b"BrokenPipe" not in err


@pytest.mark.parametrize("command", ["workflow", "generate"])
async def test_no_image_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = await run(command, cwd=tmp_path)
    assert "IMAGE is required" in usage_error(result)


# -- item 11: Ctrl-C -----------------------------------------------------------------------


async def test_ctrl_c_cancels_the_prompt_and_cleans_up(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    async with FakeComfy(object_info=bundled_object_info(), hold=True) as fake:
        config = write_config(tmp_path, fake.url)
        proc = await spawn(
            "generate", files["image"], "a cat", "--config", config, cwd=tmp_path, TMPDIR=str(temp)
        )
        prompt_id = await fake.wait_for_prompt()
        await fake.wait_running(prompt_id)
        assert proc.stderr is not None
        drawn = await proc.stderr.readuntil(b"step 1/")  # the progress bar is on screen
        proc.send_signal(signal.SIGINT)
        out, rest = await proc.communicate()
        assert prompt_id in fake.interrupts
    err = (drawn + rest).decode()
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert err.endswith("\nwanbot: interrupted\n")
    assert out == b""
    assert list(temp.iterdir()) == []


async def test_ctrl_c_while_the_host_takes_the_prompt_cancels_it_there(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    async with FakeComfy(object_info=bundled_object_info(), hold=True) as fake:
        fake.prompt_gate = asyncio.Event()  # the host is slow to answer POST /prompt
        config = write_config(tmp_path, fake.url)
        proc = await spawn("generate", files["image"], "a cat", "--config", config, cwd=tmp_path)
        await fake.wait_until(
            lambda: any(r.method == "POST" and r.path == "/prompt" for r in fake.requests)
        )
        proc.send_signal(signal.SIGINT)
        fake.prompt_gate.set()  # the host takes the prompt after the Ctrl-C
        _, err = await proc.communicate()
        [prompt_id] = fake.accepted
        assert prompt_id in fake.interrupts or prompt_id in fake.deleted
    assert proc.returncode == 130
    assert err.decode().endswith("wanbot: interrupted\n")


async def test_progress_bar_ends_its_line_before_an_error(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    schema = bundled_object_info()
    async with FakeComfy(object_info=schema, fail_with="CUDA out of memory", hold=True) as fake:
        config = write_config(tmp_path, fake.url)
        proc = await spawn("generate", files["image"], "x", "--config", config, cwd=tmp_path)
        assert proc.stderr is not None
        drawn = await proc.stderr.readuntil(b"step 1/")
        fake.release()
        _, rest = await proc.communicate()
    err = (drawn + rest).decode()
    assert proc.returncode == 1
    last = err.rstrip("\n").split("\n")[-1]
    assert last.startswith("wanbot: ") and "CUDA out of memory" in last


# -- item 12: texts and --from with other arguments -------------------------------------------


@pytest.mark.parametrize("flag", ["IMAGE", "--background", "--audio"])
async def test_a_folder_given_as_a_file_is_called_a_folder(
    tmp_path: Path, files: dict[str, Path], flag: str
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(64, 64))
    # Each with the mode that uses it (an input the mode would not use is a usage error).
    mode = {"IMAGE": (), "--background": ("--mode", "animate", "--inputs-dir", tmp_path / "in")}
    mode["--audio"] = ("--mode", "infinitetalk")
    args: Sequence[str | Path] = (
        (folder, "x") if flag == "IMAGE" else (files["image"], "x", flag, folder, *mode[flag])
    )
    result = await run("workflow", *args, cwd=tmp_path)
    line = one_line(result)
    assert f"{folder} is a folder" in line
    assert "damaged" not in line


async def test_seed_range_is_printed_as_integers(tmp_path: Path, files: dict[str, Path]) -> None:
    result = await run("workflow", files["image"], "x", "--seed", str(2**64), cwd=tmp_path)
    line = one_line(result)
    assert f"seed {2**64} is out of range" in line
    assert f"to {2**64 - 1}" in line
    assert "e+" not in line


@pytest.mark.parametrize(
    "extra",
    [("IMAGE",), ("IMAGE", "a dog"), ("--mode", "animate"), ("--audio", "IMAGE")],
)
async def test_from_with_inputs_is_a_usage_error(
    tmp_path: Path, files: dict[str, Path], extra: tuple[str, ...]
) -> None:
    args = [files["image"] if a == "IMAGE" else a for a in extra]
    result = await run("generate", "--from", tmp_path / "old.json", *args, cwd=tmp_path)
    assert "--from re-runs the archived" in usage_error(result)


async def test_from_applies_parameter_flags(tmp_path: Path, files: dict[str, Path]) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        first = await wanbot(
            "generate", files["image"], "a cat", "--seed", "5", "--config", config, cwd=tmp_path
        )
        assert first.code == 0, first.err
        old = Path(first.out.strip()).with_suffix(".json")
        rerun = ("generate", "--from", old, "--config", config)
        again = await wanbot(*rerun, "--seed", "7", "--steps", "9", cwd=tmp_path)
        assert again.code == 0, again.err
        bad = await wanbot(*rerun, "--steps", "0", cwd=tmp_path)
        assert len(fake.prompts) == 2
    record = json.loads(Path(again.out.strip()).with_suffix(".json").read_text())
    before = json.loads(old.read_text())["request"]
    assert (record["request"]["params"]["seed"], record["request"]["params"]["steps"]) == (7, 9)
    assert record["request"]["prompt"] == before["prompt"] == "a cat"
    assert record["request"]["params"]["cfg"] == before["params"]["cfg"]
    sampler = next(n for n in fake.prompts[1].values() if n["class_type"] == "WanVideoSampler")
    assert (sampler["inputs"]["seed"], sampler["inputs"]["steps"]) == (7, 9)
    assert "steps 0 is out of range" in one_line(bad)


async def test_from_a_record_whose_image_is_gone(tmp_path: Path, files: dict[str, Path]) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        first = await wanbot("generate", files["image"], "a cat", "--config", config, cwd=tmp_path)
        assert first.code == 0, first.err
        files["image"].unlink()
        old = Path(first.out.strip()).with_suffix(".json")
        again = await wanbot("generate", "--from", old, "--config", config, cwd=tmp_path)
        assert len(fake.prompts) == 1
    assert f"{files['image']}, an input of the archived job, is no longer there" in one_line(again)
