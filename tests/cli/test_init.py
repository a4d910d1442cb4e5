"""A fresh start: `wanbot init` writes the commented config; without one WanBot runs on its
defaults, and `wanbot check` says what is missing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.app import DEFAULT_HOST, default_config
from tests.cli.test_cli import ROOT, Result

CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("WANBOT_")}


@contextlib.contextmanager
def refusing_url() -> Iterator[str]:
    """The URL of a port this test holds without listening: connections are refused, and no
    other program can take the port meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd,
        env={**CLEAN, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def test_init_writes_the_example_once(tmp_path: Path) -> None:
    first = await run("init", cwd=tmp_path)
    again = await run("init", cwd=tmp_path)
    forced = await run("init", "--force", "--config", "conf/wanbot.toml", cwd=tmp_path)
    assert first.code == 0 and "wanbot check" in first.out
    example = (ROOT / "bot" / "config.example.toml").read_text()
    assert (tmp_path / "config.toml").read_text() == example
    assert again.code == 1 and "already exists" in again.err and "--force" in again.err
    assert forced.code == 0 and (tmp_path / "conf" / "wanbot.toml").read_text() == example


async def test_without_a_config_check_names_the_defaults_and_what_is_missing(
    tmp_path: Path,
) -> None:
    result = await run("check", cwd=tmp_path)
    named = await run("check", "--config", "missing.toml", cwd=tmp_path)
    assert "no config.toml, so the defaults" in result.out and DEFAULT_HOST in result.out
    assert "chats: none" in result.out and "WANBOT_TELEGRAM_TOKEN" in result.out
    # Whatever answers on 127.0.0.1:8188 on this machine (a developer's own ComfyUI, or
    # nothing), the default host is checked and named; the outcome is not this test's business.
    assert f"host local ({DEFAULT_HOST}): " in result.out and result.code in (0, 1)
    assert named.code == 1 and "wanbot init --config missing.toml" in named.err


def test_the_defaults_take_the_chats_whose_tokens_are_set() -> None:
    none = default_config(env={})
    discord = default_config(env={"WANBOT_DISCORD_TOKEN": "x.y.z"})
    assert none.chats == {} and list(discord.chats) == ["discord"]
    assert [h.url for h in none.comfy.hosts] == [DEFAULT_HOST]
    assert none.storage.database == Path("data/wanbot.db")


async def test_check_takes_the_token_from_the_environment_beside_a_config(tmp_path: Path) -> None:
    """A config without chat sections (what compose mounts) and the token in the environment:
    `check` tests that token instead of asking for the variable that is set."""
    with refusing_url() as url:
        (tmp_path / "config.toml").write_text(
            f'[comfy]\n[[comfy.hosts]]\nname = "a"\nurl = "{url}"\n'
        )
        # Malformed on purpose: `check` says so without asking Telegram (no network here).
        result = await run("check", cwd=tmp_path, env={"WANBOT_TELEGRAM_TOKEN": "not-a-token"})
        with (tmp_path / "config.toml").open("a") as config:
            config.write("[telegram]\nenabled = false\n")
        off = await run("check", cwd=tmp_path, env={"WANBOT_TELEGRAM_TOKEN": "not-a-token"})
    assert "chats: none" not in result.out
    assert "\ntelegram: " in result.out and "not-a-token" not in result.out + result.err
    assert "chats: none on ([telegram] enabled = false)" in off.out
    assert "telegram: off ([telegram] enabled = false)" in off.out
