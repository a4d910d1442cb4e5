"""`/readyz` follows the Discord gateway: down for longer than a reconnection is not ready."""

from __future__ import annotations

import asyncio

import aiohttp

from bot.ops import OpsServer, readiness_of
from tests.discord.conftest import HarnessFactory


async def test_readyz_says_the_gateway_is_down_until_the_session_resumes(
    harness: HarnessFactory,
) -> None:
    async with harness() as h:
        h.bot.reconnect_grace = 0.0  # no test waits out the real grace of a few seconds
        client = h.bot.client
        ops = OpsServer("127.0.0.1:0", h.engine, h.store, [("discord", readiness_of(h.bot))])
        await ops.start()
        url = f"http://127.0.0.1:{ops.port}/readyz"
        try:
            async with aiohttp.ClientSession() as http:
                before = await http.get(url)
                lost = asyncio.ensure_future(client.wait_for("disconnect", timeout=20))
                await asyncio.sleep(0)  # its listener is registered
                await h.discord.gateway.stop()
                await lost
                during = await http.get(url)
                reason = await during.text()
                back = asyncio.ensure_future(client.wait_for("resumed", timeout=50))
                await asyncio.sleep(0)
                h.discord.gateway.start()
                await back
                after = await http.get(url)
        finally:
            await ops.stop()
    assert before.status == 200
    assert during.status == 503
    assert reason.startswith("discord: the gateway has been disconnected for ")
    assert after.status == 200
