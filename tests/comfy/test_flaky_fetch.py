"""Fetching a finished prompt from a host that fails the fetch: said apart from a failed run.

The fake fails only the fetch (`/history` of a finished prompt, `/view`), as a host under
load or a proxy might; the prompt itself ran once and finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy import ComfyClient, HostUnavailable, pick_video, unique_upload_name
from comfy.errors import ResultUnreadable
from comfy.outputs import OutputFile
from fakes import media
from fakes.comfy_faults import Fault
from fakes.comfy_server import FakeComfy
from tests.comfy.workflow import i2v_prompt, object_info


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfy]:
    async with FakeComfy(object_info=object_info(), hold=True) as server:
        yield server


async def _finish_with_history_faults(
    fake: FakeComfy, client: ComfyClient, tmp_path: Path, faults: list[Fault]
) -> str:
    """Submit and follow a prompt; `faults` meet the reads of its history once it finished."""
    image = tmp_path / "cat.png"
    image.write_bytes(media.png_bytes())
    name = await client.upload(image, unique_upload_name(image.name))
    prompt_id = await client.submit(i2v_prompt(name))
    following = asyncio.create_task(client.follow(prompt_id))
    # The follower has looked once (queued: nothing to read yet) before the prompt runs.
    await fake.wait_until(lambda: any(r.path == "/queue" for r in fake.requests))
    fake.history_faults = list(faults)
    fake.release(prompt_id)
    with pytest.raises(ResultUnreadable) as caught:
        await following
    assert caught.value.prompt_id == prompt_id
    return prompt_id


@pytest.mark.parametrize("fault", [Fault.ERROR, Fault.BAD_JSON])
async def test_a_history_failure_after_success_says_the_prompt_finished(
    fake: FakeComfy, tmp_path: Path, fault: Fault
) -> None:
    async with ComfyClient(fake.url) as client:
        prompt_id = await _finish_with_history_faults(fake, client, tmp_path, [fault])
        entry = await client.finished_entry(prompt_id)  # the fault is over: read again
    assert pick_video(entry).filename.endswith(".mp4")
    assert fake.faulted == [(f"/history/{prompt_id}", fault)]
    assert len(fake.accepted) == 1


async def test_a_trickling_download_ends_within_upload_timeout(
    fake: FakeComfy, tmp_path: Path
) -> None:
    fake.files[("output", "", "slow.mp4")] = b"never sent"
    fake.view_faults = [Fault.TRICKLE]  # 10 bytes every 50 ms: no read ever times out
    began = time.monotonic()
    async with ComfyClient(fake.url, timeout=5.0, upload_timeout=0.5) as client:
        with pytest.raises(HostUnavailable, match="got no answer in time"):
            await client.download(OutputFile("slow.mp4", "", "output"), tmp_path / "out.mp4")
    assert time.monotonic() - began < 5.0  # bounded by upload_timeout, not by the reads
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []  # no partial left
