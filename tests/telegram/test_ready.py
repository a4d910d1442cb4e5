"""`/readyz` follows the Telegram connection: polling that keeps failing is not ready."""

from __future__ import annotations

import asyncio

import aiohttp

from adapters.telegram.app import TelegramBot
from bot.ops import OpsServer, readiness_of
from tests.telegram.conftest import HarnessFactory


async def until(bot: TelegramBot, *, working: bool) -> None:
    """Wait for getUpdates calls until the connection works (or fails) as `working` says."""
    async with asyncio.timeout(30):
        while (bot.connection_problem() is None) != working:
            await bot.polling.changed()


async def test_readyz_says_polling_fails_while_telegram_is_stopped(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        ops = OpsServer("127.0.0.1:0", h.engine, h.store, [("telegram", readiness_of(h.bot))])
        await ops.start()
        url = f"http://127.0.0.1:{ops.port}/readyz"
        try:
            async with aiohttp.ClientSession() as http:
                before = await http.get(url)
                await h.tg.stop()
                await until(h.bot, working=False)
                during = await http.get(url)
                reason = await during.text()
                await h.tg.start()
                await until(h.bot, working=True)
                after = await http.get(url)
        finally:
            await ops.stop()
    assert before.status == 200
    assert during.status == 503
    assert reason.startswith("telegram: getUpdates failed 3 times in a row (last: ")
    assert after.status == 200
