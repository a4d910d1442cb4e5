"""HTTP plumbing for `ComfyClient`; the one place where transport errors become ComfyErrors.

Also turns answers that are not ComfyUI's (server errors, HTML pages, JSON of another shape)
into one-line errors, reads JSON bodies, and opens local files for streaming without blocking
the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import aiohttp

from comfy.errors import AuthError, ComfyError, HostError, HostUnavailable, NotComfyUI

# A proxy's way of saying that nothing answers behind it.
GATEWAY_ERRORS = frozenset({502, 503, 504})
EXCERPT_CHARS = 160
ERROR_BODY_BYTES = 4096
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


@contextlib.contextmanager
def translated(base_url: str, doing: str = "") -> Iterator[None]:
    """Turn transport errors raised inside into `HostUnavailable` (or `AuthError`)."""
    try:
        yield
    except ComfyError:
        raise
    except aiohttp.WSServerHandshakeError as exc:
        raise handshake_error(base_url, exc) from exc
    except TimeoutError as exc:
        step = f"{doing} " if doing else ""
        detail = f" ({exc})" if str(exc) else ""
        raise HostUnavailable(f"{base_url}: {step}got no answer in time{detail}") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise HostUnavailable(f"{base_url}: {exc or type(exc).__name__}") from exc


def handshake_error(base_url: str, exc: aiohttp.WSServerHandshakeError) -> ComfyError:
    if exc.status in (401, 403):
        return auth_error(base_url, exc.status)
    if exc.status == 101:
        return NotComfyUI(f"{base_url}: the websocket handshake failed: {exc.message}")
    hint = " (does a proxy pass WebSocket upgrades?)" if exc.status < 500 else ""
    return HostUnavailable(
        f"{base_url}: the websocket handshake was answered {exc.status} instead of 101{hint}"
    )


class _Opening:
    """A file opened in a thread for a caller that may be cancelled meanwhile: whichever of
    the two comes second (the open, or the caller giving up) closes it. No event loop is
    needed for that, so it holds while the loop shuts down too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        self._abandoned = False

    def open(self, path: Path, mode: str) -> BinaryIO:
        file = cast(BinaryIO, path.open(mode))
        with self._lock:
            if self._abandoned:
                file.close()
            else:
                self._file = file
        return file

    def abandon(self) -> None:
        with self._lock:
            self._abandoned = True
            if self._file is not None:
                self._file.close()


async def open_file(path: Path, mode: str) -> BinaryIO:
    """Open `path` in a thread without leaking the handle if the caller is cancelled meanwhile."""
    opening = _Opening()
    try:
        return await asyncio.to_thread(opening.open, path, mode)
    except asyncio.CancelledError:
        opening.abandon()
        raise


def auth_error(base_url: str, status: int) -> AuthError:
    return AuthError(f"{base_url} answered {status}: the API token is missing or wrong")


async def read_json(response: aiohttp.ClientResponse) -> Any:
    """The body as JSON; the text itself when it is not JSON; None when empty."""
    text = await response.text(errors="replace")
    try:
        return await asyncio.to_thread(loads, text) if len(text) > 1 << 16 else loads(text)
    except ValueError:
        return text


def loads(text: str) -> Any:
    return json.loads(text) if text else None


async def raise_for_server_error(base_url: str, response: aiohttp.ClientResponse) -> None:
    """5xx: a gateway error means no host behind the proxy; others, ComfyUI failed the call."""
    if response.status < 500:
        return
    head = await response.content.read(ERROR_BODY_BYTES)
    message = f"{base_url}: {answered(response)}{details(head.decode(errors='replace'))}"
    if response.status in GATEWAY_ERRORS:
        raise HostUnavailable(message)
    raise HostError(message)


def raise_for_status(response: aiohttp.ClientResponse, body: Any) -> None:
    if response.status >= 400:
        raise ComfyError(f"{answered(response)}{details(body)}")


def answered(response: aiohttp.ClientResponse) -> str:
    reason = f" {response.reason}" if response.reason else ""
    return f"{response.method} {response.url.path} answered {response.status}{reason}"


def is_rejection(body: Any) -> bool:
    """ComfyUI's 400 for an invalid prompt: `{"error": {...}, "node_errors": {...}}`."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and isinstance(body.get("node_errors", {}), dict)
    )


def expect_object(
    body: Any, base_url: str, doing: str, fields: dict[str, type] | None = None
) -> dict[str, Any]:
    """`body` if it is a JSON object with `fields` of their types, else `NotComfyUI`."""
    if isinstance(body, dict) and all(
        isinstance(body.get(name), kind) for name, kind in (fields or {}).items()
    ):
        return body
    raise not_comfy(base_url, doing, body)


def not_comfy(base_url: str, doing: str, body: Any) -> NotComfyUI:
    return NotComfyUI(
        f"{base_url} did not answer like ComfyUI ({doing} gave {describe(body)}): is the URL right?"
    )


def describe(body: Any) -> str:
    """A few words on an unexpected answer: an HTML page and its title, text, or JSON."""
    if body is None or body == "":
        return "an empty answer"
    if isinstance(body, str):
        title = _TITLE.search(body)
        if title:
            return f"an HTML page titled '{excerpt(title.group(1))}'"
        if "<" in body and ">" in body:
            return "an HTML page"
        return f"the text '{excerpt(body)}'"
    if isinstance(body, dict):
        keys = ", ".join(sorted(str(k) for k in body)[:5]) or "no keys"
        return f"JSON of another shape (keys: {excerpt(keys)})"
    return f"JSON of another shape ({type(body).__name__})"


def details(body: Any) -> str:
    """': <short one-line excerpt of the body>', or '' when there is nothing to show."""
    if body is None or body == "":
        return ""
    if not isinstance(body, str):
        return f": {excerpt(json.dumps(body))}"
    title = _TITLE.search(body)
    text = excerpt(title.group(1) if title else _TAG.sub(" ", body))
    return f": {text}" if text else ""


def excerpt(text: str) -> str:
    """`text` on one line, unescaped, cut to `EXCERPT_CHARS`."""
    line = " ".join(html.unescape(text).split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"
