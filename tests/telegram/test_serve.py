"""`wanbot serve`: the composition root starts Telegram from config; no secret reaches a log."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.app import App, configured_adapters
from tests.fakes.comfy_server import FakeComfy
from tests.fakes.media import png_bytes
from tests.fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import make_config
from workflows.schema import bundled_object_info

ROOT = Path(__file__).resolve().parents[2]
SECRET_TOKEN = "987654:AAH-secret-part-of-the-token_x"
COMFY_TOKEN = "comfy-secret-bearer-token"
WEBHOOK_SECRET = "webhook-secret-value"


async def test_app_starts_telegram_when_configured(tmp_path: Path) -> None:
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info()) as comfy,
    ):
        config = make_config(tmp_path, tg, comfy, {})
        assert configured_adapters(config) == {"telegram": "adapters.telegram:create"}
        app = App(config)
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


def write_config(tmp: Path, tg: FakeTelegram, comfy: FakeComfy, extra: str = "") -> Path:
    path = tmp / "config.toml"
    path.write_text(
        f"""
[[comfy.hosts]]
name = "fake"
url = "{comfy.url}"
token = "{COMFY_TOKEN}"

[storage]
database = "{tmp / "wanbot.db"}"
outputs = "{tmp / "outputs"}"
jobs = "{tmp / "jobs"}"

[telegram]
token = "{tg.token}"
base_url = "{tg.base_url}"
base_file_url = "{tg.base_file_url}"
poll_timeout = 5.0
webhook_secret = "{WEBHOOK_SECRET}"
{extra}
"""
    )
    return path


async def start_wanbot(*args: str | Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *map(str, args),
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_serve_verbose_logs_no_secret(tmp_path: Path) -> None:
    async with (
        FakeTelegram(token=SECRET_TOKEN) as tg,
        FakeComfy(object_info=bundled_object_info(), token=COMFY_TOKEN) as comfy,
    ):
        config = write_config(tmp_path, tg, comfy)
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
    for secret in (secret_half, COMFY_TOKEN, WEBHOOK_SECRET):
        assert log.count(secret) == 0, f"{secret!r} is in the log"
