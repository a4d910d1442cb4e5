"""`wanbot` against hosts that are not quite ComfyUI: one clear line and exit 1, never a hang.

A wrong URL or a proxy's login page answers 200 with HTML; ComfyUI itself may answer 500; a
host may accept the connection and then say nothing, or never complete the websocket upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes
from tests.cli.test_cli import Result, wanbot, write_config
from workflows.schema import bundled_object_info

LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
    "<body><form action='/login'><input name='password' type='password'></form></body></html>"
)
# What aiohttp (and so ComfyUI) answers when a handler raises.
SERVER_ERROR = "500 Internal Server Error\n\nServer got itself in trouble"


def one_line(result: Result) -> str:
    """The single error line, after checking there is exactly one and no traceback."""
    lines = result.err.strip().splitlines()
    assert result.code == 1, result
    assert len(lines) == 1, result.err
    assert lines[0].startswith("wanbot: ")
    assert "Traceback" not in result.err
    return lines[0]


async def generate(tmp_path: Path, config: Path) -> Result:
    image = tmp_path / "cat.png"
    image.write_bytes(png_bytes(320, 192))
    return await wanbot("generate", image, "a cat", "--config", config, cwd=tmp_path)


@pytest.mark.parametrize(
    "endpoint",
    ["GET /object_info", "POST /upload/image", "POST /prompt", "GET /history/", "GET /queue"],
)
async def test_a_login_page_instead_of_comfyui(tmp_path: Path, endpoint: str) -> None:
    async with FakeComfy(object_info=bundled_object_info(), hold=True) as fake:
        fake.answers[endpoint] = (200, "text/html", LOGIN_PAGE)
        result = await generate(tmp_path, write_config(tmp_path, fake.url))
    line = one_line(result)
    assert f"{fake.url} did not answer like ComfyUI ({endpoint}" in line
    assert "an HTML page titled 'Sign in'" in line
    assert line.endswith("is the URL right?")


@pytest.mark.parametrize(
    "body",
    [
        LOGIN_PAGE,
        '{"status": "ok"}',
        '{"system": "linux"}',
    ],
)
async def test_check_names_a_host_that_is_not_comfyui(tmp_path: Path, body: str) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.answers["GET /system_stats"] = (200, "application/json", body)
        result = await wanbot("check", "--config", write_config(tmp_path, fake.url), cwd=tmp_path)
    assert result.code == 1
    assert "Traceback" not in result.err
    (line,) = [line for line in result.out.splitlines() if line.startswith("host fake")]
    assert "did not answer like ComfyUI (GET /system_stats gave" in line
    assert line.endswith("is the URL right?")


async def test_a_server_error_from_prompt_is_not_called_unreachable(tmp_path: Path) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.answers["POST /prompt"] = (500, "text/plain", SERVER_ERROR)
        result = await generate(tmp_path, write_config(tmp_path, fake.url))
    line = one_line(result)
    assert "unreachable" not in line
    assert line.startswith("wanbot: the ComfyUI host answered with an error: ")
    assert "POST /prompt answered 500 Internal Server Error: " in line
    assert "Server got itself in trouble" in line


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never sends a byte."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read()  # until the client goes away

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        await server.wait_closed()


async def test_a_host_that_accepts_and_never_answers(tmp_path: Path) -> None:
    async with silent_server() as url:
        result = await generate(tmp_path, write_config(tmp_path, url, request_timeout=0.5))
    line = one_line(result)
    assert "ComfyUI host unreachable" in line
    assert "GET /object_info got no answer in time" in line


async def test_a_websocket_upgrade_that_never_completes(tmp_path: Path) -> None:
    async with FakeComfy(object_info=bundled_object_info()) as fake:
        fake.stall_ws = True
        result = await generate(tmp_path, write_config(tmp_path, fake.url, request_timeout=0.5))
        assert fake.uploads  # everything before the websocket worked
        assert fake.accepted == []
    line = one_line(result)
    assert "the websocket handshake (GET /ws) got no answer in time" in line


async def test_a_comfyui_without_the_wan_sampler_is_named_not_a_traceback(tmp_path: Path) -> None:
    """No `WanVideoSampler` means no scheduler list: the nodes are missing, which is reported."""
    schema = bundled_object_info()
    del schema["WanVideoSampler"]  # ComfyUI-WanVideoWrapper not (fully) installed
    async with FakeComfy(object_info=schema) as fake:
        config = write_config(tmp_path, fake.url)
        check = await wanbot("check", "--config", config, cwd=tmp_path)
        run = await generate(tmp_path, config)
        assert fake.prompts == []
    assert check.code == 1 and "Traceback" not in check.err, check.err
    assert f"host fake ({fake.url}): reachable, but:" in check.out
    assert "WanVideoSampler" in check.out
    assert "WanVideoSampler" in one_line(run)
