"""The ways the fake ComfyUI host can fail one request, for tests of a flaky host."""

from __future__ import annotations

import asyncio
import contextlib
from enum import StrEnum

from aiohttp import web

TRICKLE_BYTES = 10  # what a `Fault.TRICKLE` answer sends at a time
TRICKLE_PAUSE = 0.05  # seconds between two of its sends: far less than any read timeout


class Fault(StrEnum):
    """One way to fail a request the fake host would otherwise answer."""

    ERROR = "error"  # 500 with ComfyUI's plain-text server error
    BAD_JSON = "bad json"  # 200 with a JSON content type and a body cut off mid-object
    HANG = "hang"  # never answers (until the fake closes): the client's timeout ends it
    TRICKLE = "trickle"  # answers 200, then sends the body a few bytes at a time, forever


async def answer_fault(
    request: web.Request, fault: Fault, closing: asyncio.Event
) -> web.StreamResponse:
    """Answer `request` as `fault` says; a hang or a trickle lasts until `closing` is set."""
    if fault is Fault.ERROR:
        return web.Response(status=500, text="500: Internal Server Error")
    if fault is Fault.BAD_JSON:
        return web.Response(status=200, content_type="application/json", text='{"outp')
    if fault is Fault.HANG:
        await closing.wait()
        return web.Response(status=503)
    response = web.StreamResponse(headers={"Content-Type": "video/mp4"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):  # the client gave up, as it should
        while not closing.is_set():
            await response.write(b"\0" * TRICKLE_BYTES)
            await asyncio.sleep(TRICKLE_PAUSE)
    return response
