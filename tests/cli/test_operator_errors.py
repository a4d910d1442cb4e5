"""An operator's mistakes get one line saying what is wrong and what to do, never a traceback:
a folder for `--config`, a config that is not UTF-8, a bad ops address or a taken port, a
database that cannot be opened, a second `serve` on a database; `check` finds them first."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.serve import ALONE
from fakes.media import png_bytes
from tests.cli.test_cli import ROOT, Result
from tests.cli.test_init import CLEAN, refusing_url, run
from tests.cli.test_storage import serve_until


def write_config(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(f'[comfy]\n[[comfy.hosts]]\nname = "gpu-1"\nurl = "{url}"\n{extra}')
    return path


def problem(result: Result) -> str:
    """The one line a failed command printed (after `serve`'s line naming its storage)."""
    lines = [line for line in result.err.splitlines() if not line.startswith("wanbot: database")]
    assert result.code == 1 and len(lines) == 1, result.err
    assert "Traceback" not in result.err + result.out
    return lines[0]


@pytest.fixture
def url() -> Iterator[str]:
    with refusing_url() as url:
        yield url


@pytest.mark.parametrize("command", ["serve", "check", "queue"])
async def test_a_folder_as_config_is_named(tmp_path: Path, command: str) -> None:
    (tmp_path / "config.toml").mkdir()  # what Docker makes of a missing mounted file
    result = await run(command, "--config", "config.toml", cwd=tmp_path)
    assert "--config config.toml is a folder, not a file" in problem(result)
    assert "config.toml/config.toml" in problem(result)


async def test_a_config_that_is_not_utf8_is_named(tmp_path: Path, url: str) -> None:
    config = write_config(tmp_path, url, '[telegram]\ntoken = "caf\xe9"\n')
    config.write_bytes(config.read_text().encode("latin-1"))
    result = await run("serve", "--config", config, cwd=tmp_path)
    assert "is not UTF-8 text" in problem(result) and "save it as UTF-8" in problem(result)


@pytest.mark.parametrize("listen", ["bogus", "127.0.0.1:70000"])
async def test_a_bad_ops_address_in_the_environment_is_named(
    tmp_path: Path, url: str, listen: str
) -> None:
    config = write_config(tmp_path, url)
    result = await run("serve", "--config", config, cwd=tmp_path, env={"WANBOT_OPS_LISTEN": listen})
    assert f"WANBOT_OPS_LISTEN={listen!r} is not an address" in problem(result)
    in_file = write_config(tmp_path, url, '[ops]\nlisten = "127.0.0.1:70000"\n')
    result = await run("check", "--config", in_file, cwd=tmp_path)
    assert "key 'ops.listen': Value error, the port must be 0 to 65535" in result.err


async def test_a_taken_ops_port_stops_serve_before_any_work(tmp_path: Path, url: str) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        config = write_config(tmp_path, url, f'[ops]\nlisten = "{listen}"\n')
        served = await run("serve", "--config", config, cwd=tmp_path)
        checked = await run("check", "--config", config, cwd=tmp_path)
    assert f"Cannot listen on {listen} for /healthz" in problem(served)
    assert f"ops: cannot listen on {listen}: " in checked.out and checked.code == 1


@pytest.mark.parametrize("command", ["serve", "queue", "check"])
async def test_a_damaged_database_is_named(tmp_path: Path, url: str, command: str) -> None:
    config = write_config(tmp_path, url)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "wanbot.db").write_bytes(b"this is not a database" * 100)
    result = await run(command, "--config", config, cwd=tmp_path)
    if command == "check":
        assert result.code == 1 and "Traceback" not in result.err
        assert "file is not a database (damaged, or not WanBot's)" in result.out
    else:
        assert "Cannot open the database" in problem(result)
        assert "is not a database: it is damaged or not WanBot's" in problem(result)


@pytest.mark.parametrize("command", ["serve", "check"])
async def test_a_data_folder_that_cannot_be_made_is_named(
    tmp_path: Path, url: str, command: str
) -> None:
    config = write_config(tmp_path, url)
    (tmp_path / "data").write_text("a file where the data folder should be")
    result = await run(command, "--config", config, cwd=tmp_path)
    if command == "check":
        assert result.code == 1 and "Traceback" not in result.err
        assert f"{tmp_path / 'data'} is not a folder" in result.out
    else:
        assert f"Cannot create {tmp_path / 'data' / 'wanbot.db.lock'}" in problem(result)


async def test_a_second_serve_on_a_database_is_refused_before_recovery(
    tmp_path: Path, url: str
) -> None:
    config = write_config(tmp_path, url)
    env = {**CLEAN, "PYTHONPATH": str(ROOT)}
    second: list[Result] = []
    checked: list[Result] = []

    async def meanwhile() -> None:
        second.append(await run("serve", "--config", config, cwd=tmp_path))
        checked.append(await run("check", "--config", config, cwd=tmp_path))

    seen = await serve_until(["serve", "--config", str(config)], tmp_path, env, ALONE, meanwhile)
    assert any(ALONE in line for line in seen)
    line = problem(second[0])
    assert line.startswith("wanbot: Another `wanbot serve` is already running on ")
    assert "storage: in use by a running `wanbot serve`" in checked[0].out


async def test_check_names_a_host_that_never_answers_quickly(tmp_path: Path) -> None:
    """A host that accepts connections and says nothing: `check` does not wait the whole
    `request_timeout` (kept for real work) before saying so."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # never accepts, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        config = write_config(tmp_path, url)
        config.write_text(
            config.read_text().replace("[comfy]\n", "[comfy]\nrequest_timeout = 45.0\n")
        )
        result = await run("check", "--config", config, cwd=tmp_path)
    assert f"host gpu-1 ({url}): not answering: no answer to /system_stats within 5 s" in result.out
    assert result.code == 1


async def test_a_password_in_a_host_url_is_never_shown(tmp_path: Path, url: str) -> None:
    """Behind a reverse proxy: `http://user:pass@host/`, in errors and in `check`."""
    secret_url = url.replace("http://", "http://wanbot:url-pass-123@")
    config = write_config(tmp_path, secret_url)
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(64, 64))
    checked = await run("check", "--config", config, cwd=tmp_path)
    generated = await run("generate", image, "a cat", "--config", config, cwd=tmp_path)
    env = {**CLEAN, "PYTHONPATH": str(ROOT)}
    args = ["-v", "serve", "--config", str(config)]
    served = await serve_until(args, tmp_path, env, "is not answering")
    for result in (checked, generated):
        assert "url-pass-123" not in result.out + result.err
        assert result.code == 1
    assert "host gpu-1 (http://[redacted]@127.0.0.1:" in checked.out
    assert "http://[redacted]@127.0.0.1:" in generated.err
    assert "http://[redacted]@127.0.0.1:" in served[-1] and "url-pass-123" not in "".join(served)


async def test_json_logs_are_json_from_the_first_line_to_the_last(tmp_path: Path, url: str) -> None:
    config = write_config(tmp_path, url)
    env = {**CLEAN, "PYTHONPATH": str(ROOT)}
    args = ["--log-format", "json", "serve", "--config", str(config)]
    seen = await serve_until(args, tmp_path, env, ALONE)
    records = [json.loads(line) for line in seen]
    assert records[0]["message"].startswith("database ") and records[0]["level"] == "INFO"
    assert ALONE in records[-1]["message"]
    (tmp_path / "folder.toml").mkdir()
    failed = await run("--log-format", "json", "serve", "--config", "folder.toml", cwd=tmp_path)
    (record,) = [json.loads(line) for line in failed.err.splitlines()]
    assert record["level"] == "ERROR" and "is a folder, not a file" in record["message"]
