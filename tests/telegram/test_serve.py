"""`wanbot serve`'s composition root starts the Telegram front end from the config alone."""

from __future__ import annotations

from pathlib import Path

from bot.app import App, configured_adapters
from tests.fakes.comfy_server import FakeComfy
from tests.fakes.media import png_bytes
from tests.fakes.telegram_server import FakeTelegram
from tests.telegram.conftest import make_config
from workflows.schema import bundled_object_info


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
