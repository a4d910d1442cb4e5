"""Webhook mode: the bot registers its URL and secret and serves updates on its own port."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest

from bot.app import App
from bot.errors import ConfigError
from fakes.comfy_server import FakeComfy
from fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import HarnessFactory, make_config
from workflows.schema import bundled_object_info


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_checks_the_secret_and_handles_updates(
    harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # The bot binds the port itself; another program may take a free port first, so a taken
    # one (the bot says so in one line) is a reason to try another, not a failure.
    for attempt in range(5):
        try:
            await serve_a_webhook(harness, free_port())
            break
        except ConfigError as exc:
            if "webhook_port" not in str(exc) or attempt == 4:
                raise
    assert not [r for r in caplog.records if r.exc_info], "no traceback for a bad request"


async def serve_a_webhook(harness: HarnessFactory, port: int) -> None:
    settings = {
        "mode": "webhook",
        "webhook_url": "https://bot.example.org/hook",
        "webhook_listen": "127.0.0.1",
        "webhook_port": port,
        "webhook_path": "/hook",
        "webhook_secret": "s3cret",
    }
    async with harness(**settings) as h:
        tg = h.tg
        registered = await tg.wait_for("setWebhook")
        assert registered.fields["url"] == "https://bot.example.org/hook"
        assert registered.fields["secret_token"] == "s3cret"
        update = {"update_id": 1, "message": tg.make_message(text="/help")}
        url = f"http://127.0.0.1:{port}/hook"
        async with aiohttp.ClientSession() as session:
            async with session.post(url, json=update) as refused:
                assert refused.status == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            async with session.post(url, json=update, headers=headers) as accepted:
                assert accepted.status == 200
            for body in ("{not json", "[1, 2]"):
                async with session.post(url, data=body, headers=headers) as invalid:
                    assert invalid.status == 400
        await tg.wait_text("WanBot turns photos")
        assert tg.of("getUpdates") == []


async def test_webhook_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        async with (
            FakeTelegram() as tg,
            FakeComfy(object_info=bundled_object_info()) as comfy,
        ):
            settings = {
                "mode": "webhook",
                "webhook_url": "https://bot.example.org/hook",
                "webhook_listen": "127.0.0.1",
                "webhook_port": port,
            }
            app = App(make_config(tmp_path, tg, comfy, settings))
            try:
                with pytest.raises(ConfigError, match=r"telegram\.webhook_port"):
                    await app.start()
            finally:
                await app.stop()
            assert tg.of("setWebhook") == []
