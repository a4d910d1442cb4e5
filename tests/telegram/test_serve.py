"""`wanbot serve`: the composition root starts Telegram from config; no secret reaches a log."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import App
from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes
from fakes.ports import refusing_port
from fakes.telegram_server import FakeTelegram
from tests.cli.test_init import refusing_url
from tests.telegram.conftest import (
    COMFY_TOKEN,
    WEBHOOK_SECRET,
    make_config,
    start_wanbot,
    write_config,
)
from workflows.schema import bundled_object_info

SECRET_TOKEN = "987654:AAH-secret-part-of-the-token_x"
URL_PASSWORD = "proxy-password-77"


async def test_app_starts_telegram_when_configured(tmp_path: Path) -> None:
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info()) as comfy,
    ):
        config = make_config(tmp_path, tg, comfy, {})
        app = App(config)
        assert [chat.name for chat in app.chats] == ["telegram"]
        await app.start()
        try:
            assert [a.platform for a in app.adapters] == ["telegram"]
            assert tg.of("setMyCommands")
            await tg.send_message(
                photo=tg.photo(png_bytes(640, 360), 640, 360),
                caption="/i2v a boat on a lake --steps 2",
            )
            video = await tg.wait_for("sendVideo")
            assert "a boat on a lake" in video.fields["caption"]
        finally:
            await app.stop()


@pytest.fixture
def down_url() -> Iterator[str]:
    """A host URL whose port this test holds without listening."""
    with refusing_url() as url:
        yield url


@pytest.mark.parametrize("token_in", ["file", "environment"])
async def test_serve_verbose_logs_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token_in: str, down_url: str
) -> None:
    async with (
        FakeTelegram(token=SECRET_TOKEN) as tg,
        FakeComfy(object_info=bundled_object_info(), token=COMFY_TOKEN) as comfy,
    ):
        config = write_config(tmp_path, tg, comfy)
        # A second host behind a proxy, with a password in its URL, that is down: logged.
        down = down_url.replace("http://", f"http://wanbot:{URL_PASSWORD}@")
        with config.open("a") as fh:
            fh.write(f'\n[[comfy.hosts]]\nname = "down"\nurl = "{down}"\n')
        if token_in == "environment":
            config.write_text(config.read_text().replace(f'token = "{tg.token}"', ""))
            monkeypatch.setenv("WANBOT_TELEGRAM_TOKEN", SECRET_TOKEN)
        proc = await start_wanbot("-v", "serve", "--config", config)
        try:
            await tg.wait_for("getMe", within=60)
            await tg.send_message(text="/help")
            await tg.wait_for("sendMessage", within=60)
            # The poll after the one that brought /help: a whole round trip has been logged.
            await tg.wait_for("getUpdates", count=2, within=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await proc.communicate()
    log = out.decode() + err.decode()
    assert proc.returncode == 0, log
    assert "DEBUG" in log  # -v did log
    secret_half = SECRET_TOKEN.split(":", 1)[1]
    assert "http://[redacted]@127.0.0.1:" in log  # the down host was logged
    for secret in (secret_half, COMFY_TOKEN, WEBHOOK_SECRET, URL_PASSWORD):
        assert log.count(secret) == 0, f"{secret!r} is in the log"


async def read_until(stream: asyncio.StreamReader, needle: str) -> list[str]:
    """Lines from `stream` up to and including the first that contains `needle`."""
    lines: list[str] = []
    async with asyncio.timeout(60):
        while not lines or needle not in lines[-1]:
            line = await stream.readline()
            assert line, f"{needle!r} never came; got {lines}"
            lines.append(line.decode())
    return lines


async def test_serve_retries_while_telegram_is_unreachable_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    with refusing_port() as port:  # Telegram "cannot be reached"
        async with FakeComfy(object_info=bundled_object_info()) as comfy:
            tg = FakeTelegram(token=SECRET_TOKEN)
            tg.port = port
            config = write_config(tmp_path, tg, comfy)
            proc = await start_wanbot("serve", "--config", config)
            assert proc.stderr is not None
            try:
                lines = await read_until(proc.stderr, "retrying in")
            finally:
                proc.send_signal(signal.SIGTERM)
                out, err = await proc.communicate()
    log = "".join(lines) + out.decode() + err.decode()
    assert proc.returncode == 0, log
    assert "Traceback" not in log
    assert "WARNING adapters.telegram.connect: Telegram is not reachable (" in lines[-1]
    assert "wanbot: stopping" in log
    assert SECRET_TOKEN.split(":")[1] not in log


async def test_serve_with_a_rejected_token_stops_with_one_line(tmp_path: Path) -> None:
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info()) as comfy,
    ):
        config = write_config(tmp_path, tg, comfy)
        text = config.read_text().replace(tg.token, SECRET_TOKEN)
        config.write_text(text)
        proc = await start_wanbot("serve", "--config", config)
        out, err = await proc.communicate()
    assert proc.returncode == 1
    storage, *lines = err.decode().strip().splitlines()
    assert storage.startswith("wanbot: database ")
    assert len(lines) == 1, lines
    assert lines[0].startswith("wanbot: The bot token was rejected")
    assert "telegram.token (or WANBOT_TELEGRAM_TOKEN)" in lines[0]
    assert SECRET_TOKEN.split(":")[1] not in err.decode() + out.decode()
