"""Small pieces: command parsing, pending /talk expiry, the edit throttle, the config section."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from telegram import Bot

from adapters.chat.edits import CardEditor, Edit
from adapters.telegram.config import TelegramConfig
from adapters.telegram.frontend import flood_wait
from adapters.telegram.parse import AwaitPhoto, Command, FileRef, command_of
from adapters.telegram.pending import PendingTalks
from bot.app import read_chats
from bot.config import parse_config
from bot.errors import ConfigError
from fakes.telegram_server import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/i2v a cat", Command("i2v", "a cat")),
        ("/i2v@wan_test_bot a cat --steps 3", Command("i2v", "a cat --steps 3")),
        ("/I2V@WAN_TEST_BOT x", Command("i2v", "x")),
        ("/talk", Command("talk", "")),
        ("/i2v@other_bot a cat", None),
        ("/i2vx a cat", Command("i2vx", "a cat")),
        ("hello /i2v", None),
        (None, None),
    ],
)
def test_command_of(text: str | None, expected: Command | None) -> None:
    assert command_of(text, "wan_test_bot") == expected


def test_pending_talk_expires() -> None:
    now = [0.0]
    pending = PendingTalks(ttl=60, clock=lambda: now[0])
    request = AwaitPhoto("hi", {}, FileRef("f", 10, "audio", "audio.ogg"))
    pending.put(1, 2, request)
    assert pending.take(1, 3) is None  # another user
    assert pending.take(1, 2) is request
    assert pending.take(1, 2) is None  # taken once
    pending.put(1, 2, request)
    now[0] = 61
    assert pending.take(1, 2) is None


async def test_editor_throttles_and_never_repeats() -> None:
    async with (
        FakeTelegram() as tg,
        Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as bot,
    ):
        sent = await bot.send_message(5, "start")
        key = (5, sent.message_id)

        async def edit(key: tuple[int, int], edit: Edit) -> None:
            await bot.edit_message_text(edit.face.text, chat_id=key[0], message_id=key[1])

        editor = CardEditor(edit, interval=0.3, flood_wait=flood_wait)
        editor.remember(key, "start")
        await editor.edit(key, "start")  # identical: skipped
        for percent in range(10):
            await editor.edit(key, f"{percent}%")
        await tg.wait_for("editMessageText")
        await editor.edit(key, "done", final=True)
        texts = [c.fields["text"] for c in tg.of("editMessageText")]
        assert texts[-1] == "done"
        assert len(texts) <= 3  # the burst was coalesced
        assert tg.identical_edits == 0
        await editor.close()


def _config(telegram: dict[str, Any]) -> dict[str, Any]:
    return {"comfy": {"hosts": [{"name": "a", "url": "http://x"}]}, "telegram": telegram}


def _telegram(section: dict[str, Any], env: dict[str, str] | None = None) -> TelegramConfig:
    """`[telegram]` as `wanbot` reads it: the core config, then the adapter's own model."""
    env = {} if env is None else env
    chats = read_chats(parse_config(_config(section), "config.toml", env), env, "config.toml")
    assert [chat.name for chat in chats] == ["telegram"]
    assert isinstance(chats[0].settings, TelegramConfig)
    return chats[0].settings


def test_token_from_environment_and_limits() -> None:
    telegram = _telegram({}, env={"WANBOT_TELEGRAM_TOKEN": "1:abc"})
    assert telegram.token == "1:abc"
    assert telegram.max_upload_bytes() == 50 * 1024 * 1024
    assert telegram.max_download_bytes() == 20 * 1024 * 1024
    local = _telegram({"token": "1:a", "base_url": "http://127.0.0.1:8081/bot"})
    assert local.max_upload_bytes() == 2000 * 1024 * 1024
    assert _telegram({"token": "1:a"}, env={"WANBOT_TELEGRAM_TOKEN": "2:b"}).token == "1:a"


def test_missing_token_names_the_key_and_the_variable() -> None:
    with pytest.raises(ConfigError) as raised:
        _telegram({})
    assert str(raised.value) == (
        "Invalid configuration in config.toml:\n  - key 'telegram.token' is required: set it, "
        "or the environment variable WANBOT_TELEGRAM_TOKEN (from @BotFather)."
    )


def test_webhook_needs_a_url() -> None:
    with pytest.raises(ConfigError, match=r"key 'telegram': .*webhook_url"):
        _telegram({"token": "1:a", "mode": "webhook"})


def test_a_bad_key_is_named_with_its_section() -> None:
    with pytest.raises(ConfigError) as raised:
        _telegram({"token": "1:a", "poll_timeout": 900, "tokn": "x"})
    assert str(raised.value).splitlines()[1:] == [
        "  - key 'telegram.poll_timeout': Input should be less than or equal to 300 (got 900).",
        "  - key 'telegram.tokn' is not a known setting: remove it or check its spelling "
        "(see config.example.toml).",
    ]


def test_no_telegram_section_is_fine() -> None:
    config = parse_config({"comfy": {"hosts": [{"name": "a", "url": "http://x"}]}}, env={})
    assert config.chats == {}
    assert read_chats(config, env={}) == []


def test_reading_the_section_does_not_import_the_telegram_library() -> None:
    """Every `wanbot` command reads `[telegram]`; only `serve` and `check` need the library."""
    code = (
        "import sys; from adapters.telegram import read_settings; "
        "read_settings({'token': '1:a'}, {}, 'config'); "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'telegram'); "
        "sys.exit(str(loaded) if loaded else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
