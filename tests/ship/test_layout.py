"""The image's layout, run without Docker: the command the image runs, with the image's
environment, its working directory and compose's mounts all placed under tmp_path. The data
must land in the volume with `wanbot init`'s config mounted read-only, and with none at all."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from bot.cli.serve import ALONE
from fakes.comfy_server import FakeComfy
from tests.cli.test_storage import serve_until
from tests.ship.test_docker import DOCKERFILE, ROOT, instructions
from workflows.schema import bundled_object_info

CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("WANBOT_")}


def final_stage() -> list[tuple[str, str]]:
    steps = instructions(DOCKERFILE)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def image_env() -> dict[str, str]:
    """The final stage's ENV, as `KEY=value` pairs."""
    env: dict[str, str] = {}
    for word, args in final_stage():
        if word == "ENV":
            env.update(pair.split("=", 1) for pair in args.split())
    return env


def compose_mounts() -> dict[str, str]:
    """The wanbot service's bind mounts and volumes: container path -> `source[:options]`."""
    text = (ROOT / "compose.yaml").read_text()
    service = text.split("\n  comfyui:")[0]
    mounts = re.findall(r"^\s+- (\S+?):(/\S+?)(:ro)?\s*$", service, re.MULTILINE)
    return {target: source + ro for source, target, ro in mounts}


class Image:
    """The image's paths mapped under `root`, and its command run with its environment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        steps = dict(final_stage())
        self.workdir = self.place(steps["WORKDIR"])
        self.volume = self.place(json.loads(steps["VOLUME"])[0])
        self.command = json.loads(steps["ENTRYPOINT"]) + json.loads(steps["CMD"])

    def place(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def env(self) -> dict[str, str]:
        env = image_env()
        # Paths under root; the ops port is one the system picks (9100 may be taken here).
        env["WANBOT_DATA"] = str(self.place(env["WANBOT_DATA"]))
        env["WANBOT_OPS_LISTEN"] = "127.0.0.1:0"
        del env["PATH"]  # the image's venv; here the tests' Python runs the same package
        return {**CLEAN, **env, "PYTHONPATH": str(ROOT)}

    async def serve(self) -> list[str]:
        """Run the image's command until it serves, then stop it as Docker does."""
        assert self.command[0] == "wanbot"
        return await serve_until(self.command[1:], self.workdir, self.env(), ALONE)


def written(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_compose_mounts_a_config_folder_read_only_and_the_data_volume() -> None:
    mounts = compose_mounts()
    steps = dict(final_stage())
    assert mounts[steps["WORKDIR"]] == "./config:ro"  # a folder: it may hold no config.toml
    assert mounts[json.loads(steps["VOLUME"])[0]] == "wanbot-data"
    assert image_env()["WANBOT_DATA"] == json.loads(steps["VOLUME"])[0]


@pytest.mark.parametrize("with_config", [True, False], ids=["init's config", "no config"])
async def test_the_data_lands_in_the_volume(tmp_path: Path, with_config: bool) -> None:
    image = Image(tmp_path)
    image.workdir.mkdir(parents=True)
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        if with_config:
            # `wanbot init`'s own file, with the host pointed at the fake.
            init = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "init", "--config", "config.toml",
                cwd=image.workdir, env={**CLEAN, "PYTHONPATH": str(ROOT)},
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            assert await init.wait() == 0
            config = image.workdir / "config.toml"
            config.write_text(config.read_text().replace("http://127.0.0.1:8188", fake.url))
        seen = await image.serve()
    database = image.volume / "wanbot.db"
    assert any(line.startswith(f"wanbot: database {database},") for line in seen), seen
    # The database is in the volume, and nothing was written beside the config (mounted
    # read-only in the image) nor anywhere else.
    config = ["srv/wanbot/config/config.toml"] if with_config else []
    assert [f for f in written(tmp_path) if "wanbot.db" not in f] == config
    assert "srv/wanbot/data/wanbot.db" in written(tmp_path)
