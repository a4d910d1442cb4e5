"""Downloading what a draft names: size checked before `getFile`, one folder per request."""

from __future__ import annotations

from pathlib import Path

from telegram import Bot
from telegram.error import BadRequest

from adapters.telegram import texts
from adapters.telegram.parse import Draft, FileRef
from bot.frontend import InputError, InputFiles

# The cloud Bot API's getFile refuses files over this, whatever their message declared.
GET_FILE_LIMIT = 20 * 1024 * 1024


def _too_big(size: int | str, limit: int) -> InputError:
    shown = texts.mib(size) if isinstance(size, int) else size
    return InputError(texts.TOO_BIG.format(size=shown, limit=texts.mib(limit)))


async def download(bot: Bot, ref: FileRef, dest: Path, max_bytes: int) -> Path:
    """Fetch `ref` to `dest`. Refuses files over `max_bytes` before asking Telegram for them."""
    if ref.size is not None and ref.size > max_bytes:
        raise _too_big(ref.size, max_bytes)
    try:
        remote = await bot.get_file(ref.file_id)
    except BadRequest as exc:
        if "too big" in exc.message.lower():
            # The cloud Bot API refuses getFile above 20 MB; the size the message declared
            # (if any) was wrong, so it is not repeated.
            over = "over " + texts.mib(GET_FILE_LIMIT)
            raise _too_big(over, max_bytes) from exc
        # An unknown or expired file_id: only a fresh copy of the file has a valid one.
        raise InputError(texts.FILE_GONE) from exc
    if remote.file_size is not None and remote.file_size > max_bytes:
        raise _too_big(remote.file_size, max_bytes)
    await remote.download_to_drive(dest)
    return dest


async def download_draft(bot: Bot, draft: Draft, folder: Path, max_bytes: int) -> InputFiles:
    """Every file of `draft` under `folder`, as the engine's `InputFiles`."""

    async def one(ref: FileRef) -> Path:
        return await download(bot, ref, folder / ref.name, max_bytes)

    image = await one(draft.image)
    audio = await one(draft.audio) if draft.audio is not None else None
    pose = [await one(r) for r in draft.pose]
    face = [await one(r) for r in draft.face]
    end = await one(draft.end) if draft.end is not None else None
    return InputFiles(image=image, audio=audio, pose=pose, face=face, end=end)
