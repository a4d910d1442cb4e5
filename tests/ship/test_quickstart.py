"""The quick start's first command, `uv run wanbot …`: it answers `--help`, and runs a job
against a (fake) ComfyUI host. `--no-sync`: the project is already set up (CI's `.ci/run` and
the quick start set it up from uv.lock)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes, probe
from tests.cli.test_cli import ROOT, Result, write_config
from workflows.schema import bundled_object_info

UV = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))


async def uv_run(*args: str | Path, cwd: Path) -> Result:
    proc = await asyncio.create_subprocess_exec(
        UV, "run", "--no-sync", "--project", str(ROOT), "wanbot", *map(str, args), cwd=cwd,
        env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def test_uv_run_wanbot_answers_and_runs_a_job(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(320, 240))
    helped = await uv_run("--help", cwd=tmp_path)
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        config = write_config(tmp_path, fake.url)
        job = await uv_run(
            "generate", image, "a cat", "--steps", "2", "--config", config, cwd=tmp_path
        )
    assert helped.code == 0 and "generate" in helped.out and "serve" in helped.out
    assert job.code == 0, job.err
    assert probe(Path(job.out.strip())).frames > 0
