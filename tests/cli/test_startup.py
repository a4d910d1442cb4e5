"""`wanbot --help` answers without loading the heavy modules (pydantic, aiohttp, the job
flags), so it is fast; the time itself is measured by `bench.startup`, not here."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("aiohttp", "pydantic", "av", "PIL", "bot.params", "bot.config")


@pytest.mark.parametrize("argv", [["--help"], ["-v", "-h"]])
def test_the_list_of_commands_loads_nothing_heavy(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert not {name for name in imported if name.split(".")[0] in HEAVY or name in HEAVY}
    for command in ("generate", "workflow", "check", "serve", "queue", "init"):
        assert command in done.stdout


def test_a_commands_help_still_lists_its_flags() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "generate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in ("--steps", "--cfg", "--seed", "--size", "--mode"):
        assert flag in done.stdout
