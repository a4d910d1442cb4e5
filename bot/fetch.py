"""Fetching a finished prompt's video: fetches only, repeated with backoff for a bounded time.

Once ComfyUI has said a prompt finished, the GPU work is done and the video sits in the
host's output folder. A failed fetch (a 500, an answer that is not JSON, a hang, a transfer
cut short or damaged) is repeated on its own, for up to `[comfy] fetch_retry_seconds`, and
never makes the video again. When the host still fails, `VideoNotFetched` names the host and
keeps the prompt's id, so its output can be fetched later from the host's history.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import InputError, WanBotError
from bot.media.video import probe
from comfy.errors import DownloadIncomplete, HostError, HostUnavailable
from comfy.events import HistoryEntry
from comfy.outputs import OutputFile, pick_video

if TYPE_CHECKING:
    from comfy.client import ComfyClient

log = logging.getLogger(__name__)

FETCH_WINDOW = 600.0  # seconds; the default of `[comfy] fetch_retry_seconds`
FIRST_BACKOFF = 0.25  # seconds before the 2nd try; doubles after each failure
MAX_BACKOFF = 30.0


MADE_NOT_FETCHED = "The video was made, but it could not be"


def made_not_fetched(error: str | None) -> bool:
    """Whether a failed job's error says its video was made but not fetched (so fetching it
    again, not running it again, is what can still deliver it)."""
    return (error or "").startswith(MADE_NOT_FETCHED)


class VideoNotFetched(WanBotError):
    """The prompt finished, but its video could not be fetched from the host in time."""

    what = "fetched"

    def __init__(self, host: str, prompt_id: str, tries: int) -> None:
        self.host = host
        self.prompt_id = prompt_id
        super().__init__(
            f"{MADE_NOT_FETCHED} {self.what} from the GPU host {host} "
            f"({tries} {'try' if tries == 1 else 'tries'}; prompt {prompt_id}). "
            "An admin can fetch it again once the host answers (/refetch); else please "
            "send the job again later."
        )


class VideoIncomplete(VideoNotFetched):
    """Every transfer of the finished video came back cut short or damaged."""

    what = "downloaded whole"


async def fetch_result(
    client: ComfyClient,
    where: tuple[str, str],
    entry: HistoryEntry | None,
    dest: Path,
    *,
    window: float = FETCH_WINDOW,
) -> Path:
    """Download the video of the finished prompt `where` = (host name, prompt id) to `dest`.

    `entry` is the prompt's history entry, or None when reading it failed (it is read
    again). Raises `VideoIncomplete` or `VideoNotFetched` once `window` seconds have passed,
    and what the history says of a failed prompt; never sends the prompt again.
    """
    host, prompt_id = where
    deadline, delay, tries = time.monotonic() + window, FIRST_BACKOFF, 0
    while True:
        tries += 1
        try:
            if entry is None:
                entry = await client.finished_entry(prompt_id)
            return await download_video(client, pick_video(entry), dest)
        except (HostUnavailable, HostError) as exc:
            log.warning("fetch %d of prompt %s from %s failed: %s", tries, prompt_id, host, exc)
            left = deadline - time.monotonic()
            if left <= 0:
                log.error(
                    "gave up fetching the video of prompt %s from host %s (%s) after %d tries; "
                    "it is in the host's history",
                    prompt_id,
                    host,
                    client.base_url,
                    tries,
                )
                damaged = isinstance(exc, DownloadIncomplete)
                raise (VideoIncomplete if damaged else VideoNotFetched)(
                    host, prompt_id, tries
                ) from exc
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, MAX_BACKOFF)


async def download_video(client: ComfyClient, file: OutputFile, dest: Path) -> Path:
    """Download `file` to `dest`; `DownloadIncomplete` unless it arrives whole and opens as
    a video (a cut-off MP4 does not)."""
    await client.download(file, dest)
    try:
        await probe(dest)
    except InputError as exc:
        size = (await asyncio.to_thread(dest.stat)).st_size
        await asyncio.to_thread(dest.unlink, missing_ok=True)
        raise DownloadIncomplete(client.base_url, file.filename, size) from exc
    return dest
