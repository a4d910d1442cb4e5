"""The fake Telegram server itself: an upload cut off halfway leaves nothing open behind."""

from __future__ import annotations

import asyncio
import gc

import aiohttp
import pytest

from fakes.telegram_server import FakeTelegram

BOUNDARY = "wanbot-test-boundary"


def partial_upload(token: str, port: int) -> bytes:
    """A sendVideo request whose body stops in the middle of the video part."""
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="video"; filename="v.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode() + b"\0" * 300_000
    request = (
        f"POST /bot{token}/sendVideo HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(head) + 1_000_000}\r\n\r\n"
    ).encode()
    return request + head


@pytest.mark.parametrize("client_goes_away", [True, False])
async def test_upload_cut_off_midway_leaves_no_file_open(client_goes_away: bool) -> None:
    tg = FakeTelegram()
    await tg.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", tg.port)
        writer.write(partial_upload(tg.token, tg.port))
        await writer.drain()
        # A full round trip on another connection: the server has taken the partial body by now.
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{tg.base_url}{tg.token}/getMe") as response,
        ):
            assert response.status == 200
        if client_goes_away:
            writer.close()
            await writer.wait_closed()
    finally:
        await tg.close()  # the server stops while the upload is still being received
    if not client_goes_away:
        writer.close()
        await writer.wait_closed()
    del reader
    # An unclosed temporary file would warn here, and warnings fail this suite.
    gc.collect()
