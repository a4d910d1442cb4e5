"""Downloading a command's attachments at once (CDN links expire): size checked first."""

from __future__ import annotations

import asyncio
from pathlib import Path

import discord

from adapters.discord import texts
from bot.frontend import InputError, echo, size_text

DOWNLOAD_TIMEOUT = 120.0


def check_size(attachment: discord.Attachment, max_bytes: int) -> None:
    """Refuse an attachment over `max_bytes` by the size Discord reports, before any download."""
    if attachment.size > max_bytes:
        raise too_big(attachment.size, max_bytes)


def check_image(attachment: discord.Attachment) -> None:
    """Refuse what Discord itself says is not an image (a text file); unknown types pass."""
    kind = attachment.content_type
    if kind is not None and not kind.startswith("image/"):
        raise InputError(texts.NOT_AN_IMAGE.format(name=echo(attachment.filename)))


def too_big(size: int, limit: int) -> InputError:
    return InputError(texts.TOO_BIG.format(size=size_text(size), limit=size_text(limit)))


async def download(attachment: discord.Attachment, folder: Path, stem: str, max_bytes: int) -> Path:
    """`attachment` saved as `folder/<stem><its suffix>`, refused when over `max_bytes`."""
    check_size(attachment, max_bytes)
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT):
            data = await attachment.read()
    except (discord.HTTPException, TimeoutError) as exc:
        raise InputError(texts.DOWNLOAD_FAILED.format(name=echo(attachment.filename))) from exc
    if len(data) > max_bytes:
        raise too_big(len(data), max_bytes)
    suffix = Path(attachment.filename).suffix.lower()[:10]
    path = folder / f"{stem}{suffix}"
    await asyncio.to_thread(path.write_bytes, data)
    return path
