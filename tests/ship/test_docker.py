"""The Docker files, checked without a Docker daemon: hadolint passes, every file the image
copies exists (and is not ignored), and it runs the console script with a subcommand that
exists, with a health check on the ops listener's /healthz."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from bot.cli.args import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    for dockerfile in (DOCKERFILE, ROOT / "docker" / "comfyui.Dockerfile"):
        result = subprocess.run(
            [hadolint, str(dockerfile)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_copied_file_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    copies = [args for word, args in instructions(DOCKERFILE) if word == "COPY"]
    sources = [s for args in copies if not args.startswith("--from") for s in args.split()[:-1]]
    assert {"pyproject.toml", "uv.lock", "bot", "adapters", "comfy", "workflows"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source not in ignored, source


def test_the_image_runs_the_console_script_and_checks_health() -> None:
    steps = dict(instructions(DOCKERFILE))  # the last of each instruction (the final image)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    entry, command = json.loads(steps["ENTRYPOINT"]), json.loads(steps["CMD"])
    assert entry == ["wanbot"] and "wanbot" in scripts
    assert build_parser().parse_args(command).command == "serve"
    assert "WANBOT_OPS_LISTEN=0.0.0.0:9100" in steps["ENV"] and steps["EXPOSE"] == "9100"
    assert "127.0.0.1:9100/healthz" in steps["HEALTHCHECK"]
    assert steps["USER"].split(":")[0] != "0" and steps["VOLUME"] == '["/srv/wanbot/data"]'
    assert steps["WORKDIR"] == "/srv/wanbot/config"  # where compose mounts the config folder


def test_compose_mounts_what_the_image_expects_and_reserves_the_gpu() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    assert "./config:/srv/wanbot/config:ro" in compose
    assert "wanbot-data:/srv/wanbot/data" in compose
    assert 'profiles: ["gpu"]' in compose and "driver: nvidia" in compose
    assert "capabilities: [gpu]" in compose and "./models:/opt/ComfyUI/models" in compose
    nodes = (ROOT / "docker" / "comfyui.Dockerfile").read_text()
    for repo in ("ComfyUI-WanVideoWrapper", "ComfyUI-VideoHelperSuite", "ComfyUI-KJNodes"):
        assert repo in nodes
