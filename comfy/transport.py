"""HTTP plumbing for `ComfyClient`; the one place where transport errors become ComfyErrors.

Also reads JSON bodies and opens local files for streaming without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import aiohttp

from comfy.errors import AuthError, ComfyError, HostUnavailable


@contextlib.contextmanager
def translated(base_url: str) -> Iterator[None]:
    try:
        yield
    except ComfyError:
        raise
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise HostUnavailable(f"{base_url}: {exc or type(exc).__name__}") from exc


async def open_file(path: Path, mode: str) -> BinaryIO:
    """Open `path` in a thread without leaking the handle if the caller is cancelled meanwhile."""
    opening: asyncio.Future[BinaryIO] = asyncio.ensure_future(
        asyncio.to_thread(lambda: cast(BinaryIO, path.open(mode)))
    )
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(close_opened)
        raise


def close_opened(opening: asyncio.Future[BinaryIO]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def auth_error(base_url: str, status: int) -> AuthError:
    return AuthError(f"{base_url} answered {status}: the API token is missing or wrong")


async def read_json(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    try:
        return await asyncio.to_thread(loads, text) if len(text) > 1 << 16 else loads(text)
    except ValueError:
        return text


def loads(text: str) -> Any:
    return json.loads(text) if text else None


def raise_for_status(response: aiohttp.ClientResponse, body: Any) -> None:
    if response.status >= 400:
        raise ComfyError(
            f"{response.method} {response.url.path} answered {response.status}: {body}"
        )
