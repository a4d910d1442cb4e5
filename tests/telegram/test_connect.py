"""Reaching Telegram: retries at start-up, a rejected token, and `wanbot check`'s probe."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from adapters.telegram.app import TelegramBot
from adapters.telegram.connect import token_problem
from bot.app import App
from bot.errors import ConfigError
from fakes.comfy_server import FakeComfy
from fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import make_config, run_wanbot, write_config
from workflows.schema import bundled_object_info


async def test_start_retries_until_telegram_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(TelegramBot, "first_retry", 0.01)
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info()) as comfy,
    ):
        tg.fail_next("getMe", status=502, times=2)
        app = App(make_config(tmp_path, tg, comfy, {}))
        try:
            with caplog.at_level(logging.WARNING, logger="adapters.telegram"):
                await app.start()
            assert len(tg.of("getMe")) == 3
            retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
            assert len(retries) == 2
            assert all(r.exc_info is None and "\n" not in r.getMessage() for r in retries)
            assert "Bad Gateway" in retries[0].getMessage()
            await tg.send_message(text="/help")
            await tg.wait_text("WanBot turns photos into short videos")
        finally:
            await app.stop()


async def test_start_with_a_rejected_token_names_the_key(tmp_path: Path) -> None:
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info()) as comfy,
    ):
        config = make_config(tmp_path, tg, comfy, {"token": "42:not-the-fakes-token"})
        app = App(config)
        try:
            with pytest.raises(ConfigError, match=r"telegram\.token \(or WANBOT_TELEGRAM_TOKEN\)"):
                await app.start()
        finally:
            await app.stop()
        assert tg.of("getMe")[0].response == {"status": 401}


@pytest.mark.parametrize(
    "token", ["", "bot123:abc", "123456:ABC def", "123456", "'123456:abc'", "https://x/bot1:a"]
)
def test_token_shape(token: str) -> None:
    assert token_problem(token) is not None


def test_botfather_token_has_the_right_shape() -> None:
    assert token_problem("110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw") is None


async def test_check_reports_the_bot_or_what_is_wrong(tmp_path: Path) -> None:
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info()) as comfy,
    ):
        config = write_config(tmp_path, tg, comfy)
        good = await run_wanbot("check", "--config", config)
        config.write_text(config.read_text().replace(tg.token, "42:wrong-token"))
        rejected = await run_wanbot("check", "--config", config)
        config.write_text(config.read_text().replace("42:wrong-token", "bot42:wrong token"))
        malformed = await run_wanbot("check", "--config", config)
    assert good[0] == 0, good
    assert f"telegram: ready as @{tg.username}" in good[1]
    assert rejected[0] == 1
    assert "telegram: The bot token was rejected" in rejected[1]
    assert malformed[0] == 1
    assert "telegram: telegram.token (or WANBOT_TELEGRAM_TOKEN) does not look like" in malformed[1]
    assert len(tg.of("getMe")) == 2  # a malformed token is not sent anywhere
    for _, out, err in (good, rejected, malformed):
        assert "Traceback" not in out + err


@pytest.mark.parametrize("command", ["serve", "check"])
async def test_no_token_anywhere_stops_at_start_up_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.delenv("WANBOT_TELEGRAM_TOKEN", raising=False)
    async with (
        FakeTelegram() as tg,
        FakeComfy(object_info=bundled_object_info()) as comfy,
    ):
        config = write_config(tmp_path, tg, comfy)
        config.write_text(config.read_text().replace(f'token = "{tg.token}"', ""))
        code, out, err = await run_wanbot(command, "--config", config)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"wanbot: Invalid configuration in {config}: - key 'telegram.token' is required: set it, "
        "or the environment variable WANBOT_TELEGRAM_TOKEN (from @BotFather)."
    ]
    assert tg.calls == []
