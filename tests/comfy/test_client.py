"""ComfyClient against the fake ComfyUI (a real aiohttp server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from comfy import (
    AuthError,
    ComfyClient,
    ComfyEvent,
    ExecutionFailed,
    ExecutionInterrupted,
    HostUnavailable,
    Progress,
    PromptRejected,
    Started,
    pick_video,
    unique_upload_name,
)
from comfy.errors import PromptLost
from fakes import media
from fakes.comfy_server import FakeComfy
from tests.comfy.workflow import i2v_prompt, object_info


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfy]:
    async with FakeComfy(object_info=object_info()) as server:
        yield server


@pytest.fixture
async def client(fake: FakeComfy) -> AsyncIterator[ComfyClient]:
    async with ComfyClient(fake.url, reconnect_window=2.0) as comfy:
        yield comfy


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(media.png_bytes())
    return path


async def _submit(client: ComfyClient, image: Path, **kwargs: Any) -> str:
    name = await client.upload(image, unique_upload_name(image.name))
    return await client.submit(i2v_prompt(name, **kwargs))


async def test_upload_streams_the_file_and_sends_the_token(image: Path, tmp_path: Path) -> None:
    audio = tmp_path / "voice.wav"
    audio.write_bytes(media.wav_bytes())
    sent = {"in.png": media.png_bytes(), "wanbot/voice.wav": media.wav_bytes()}
    async with (
        FakeComfy(object_info=object_info(), token="s3cret") as fake,
        ComfyClient(fake.url, token="s3cret") as client,
    ):
        name = await client.upload(image, "in.png")
        nested = await client.upload(audio, "voice.wav", subfolder="wanbot")

    assert name == "in.png"
    assert nested == "wanbot/voice.wav"
    assert fake.uploads == sent
    assert {r.headers.get("Authorization") for r in fake.requests} == {"Bearer s3cret"}


def test_unique_upload_name_keeps_the_extension() -> None:
    first, second = unique_upload_name("Photo.JPG"), unique_upload_name("Photo.JPG")
    assert first != second
    assert first.startswith("wanbot_")
    assert first.endswith(".jpg")


async def test_submit_and_follow_reports_progress(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    events: list[ComfyEvent] = []
    prompt_id = await _submit(client, image)

    entry = await client.follow(prompt_id, events.append)

    assert fake.prompts[0]["8"]["class_type"] == "KSampler"
    assert entry["status"]["status_str"] == "success"
    assert Started(prompt_id) in events
    progress = [e for e in events if isinstance(e, Progress)]
    assert [(p.value, p.max, p.node) for p in progress] == [(1, 3, "8"), (2, 3, "8"), (3, 3, "8")]
    assert pick_video(entry).filename == "i2v_00001.mp4"


async def test_follow_awaits_async_callbacks(client: ComfyClient, image: Path) -> None:
    seen: list[ComfyEvent] = []

    async def on_event(event: ComfyEvent) -> None:
        seen.append(event)

    await client.follow(await _submit(client, image), on_event)

    assert any(isinstance(e, Progress) for e in seen)


async def test_download_writes_the_real_mp4_with_audio(
    fake: FakeComfy, client: ComfyClient, image: Path, tmp_path: Path
) -> None:
    audio = tmp_path / "voice.wav"
    audio.write_bytes(media.wav_bytes())
    audio_name = await client.upload(audio, unique_upload_name("voice.wav"))
    prompt_id = await _submit(client, image, audio=audio_name, length=17)

    video = pick_video(await client.follow(prompt_id))
    path = await client.download(video, tmp_path / "out.mp4")

    assert video.filename == "i2v_00001-audio.mp4"
    assert video.subfolder == "wanbot"
    info = media.probe(path)
    assert (info.frames, info.width, info.height) == (17, 104, 60)
    assert info.audio_codec == "aac"
    assert sorted(p.name for p in await asyncio.to_thread(tmp_path.iterdir)) == [
        "cat.png",
        "out.mp4",
        "voice.wav",
    ]


async def test_core_save_video_output_is_found_and_downloaded(
    client: ComfyClient, image: Path, tmp_path: Path
) -> None:
    prompt_id = await _submit(client, image, save_video=True)

    entry = await client.follow(prompt_id)
    video = pick_video(entry)
    path = await client.download(video, tmp_path / "core.mp4")

    assert entry["outputs"]["11"]["animated"] == [True]
    assert (video.subfolder, video.filename) == ("video", "wanbot_00001_.mp4")
    assert media.probe(path).frames == 25


@pytest.mark.parametrize(
    ("change", "input_name", "reason"),
    [
        (lambda p: p["8"]["inputs"].update(scheduler="bogus"), "scheduler", "Value not in list"),
        (lambda p: p["8"]["inputs"].pop("steps"), "steps", "Required input is missing"),
        (lambda p: p["8"]["inputs"].update(steps=0), "steps", "smaller than min"),
    ],
)
async def test_rejected_prompt_names_node_class_and_input(
    fake: FakeComfy, client: ComfyClient, change: Any, input_name: str, reason: str
) -> None:
    prompt = i2v_prompt("example.png")
    change(prompt)

    with pytest.raises(PromptRejected) as caught:
        await client.submit(prompt)

    assert f"node 8 (KSampler) input '{input_name}'" in str(caught.value)
    assert reason in str(caught.value)
    assert caught.value.error["type"] == "prompt_outputs_failed_validation"
    assert caught.value.node_errors["8"]["dependent_outputs"] == ["10"]
    assert fake.accepted == []


async def test_unknown_node_class_is_rejected(client: ComfyClient) -> None:
    prompt = i2v_prompt("example.png")
    prompt["8"]["class_type"] = "NoSuchSampler"

    with pytest.raises(PromptRejected) as caught:
        await client.submit(prompt)

    assert caught.value.error["type"] == "missing_node_type"
    assert "not found" in str(caught.value)


async def test_execution_error_carries_comfyui_message(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    fake.fail_with = "CUDA out of memory. Tried to allocate 2.00 GiB"

    with pytest.raises(ExecutionFailed) as caught:
        await client.follow(await _submit(client, image))

    assert caught.value.node_id == "8"
    assert caught.value.node_type == "KSampler"
    assert "CUDA out of memory" in str(caught.value)


async def test_interrupting_a_running_job(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    fake.hold = True
    prompt_id = await _submit(client, image)
    following = asyncio.create_task(client.follow(prompt_id))
    await fake.wait_running(prompt_id)

    assert await client.cancel(prompt_id) is True

    with pytest.raises(ExecutionInterrupted):
        await following
    assert fake.interrupts == [prompt_id]
    assert fake.history[prompt_id]["status"]["status_str"] == "error"


async def test_deleting_a_pending_job(fake: FakeComfy, client: ComfyClient, image: Path) -> None:
    fake.hold = True
    first = await _submit(client, image)
    second = await _submit(client, image)
    await fake.wait_running(first)
    following = asyncio.create_task(client.follow(second))
    await fake.wait_until(lambda: any(r.path == f"/history/{second}" for r in fake.requests))

    assert await client.cancel(second) is True

    with pytest.raises(ExecutionInterrupted):
        await following
    assert fake.deleted == [second]
    assert fake.interrupts == []
    fake.release(first)
    await client.follow(first)


async def test_prompt_deleted_by_someone_else_ends_follow(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    fake.hold = True
    first = await _submit(client, image)
    second = await _submit(client, image)
    await fake.wait_running(first)
    async with ComfyClient(fake.url) as other:
        await other.delete_pending(second)

    # To this client the host forgot the prompt, as a restarted ComfyUI would.
    with pytest.raises(PromptLost, match="not queued"):
        await client.follow(second)
    fake.release()


async def test_missing_token_is_an_auth_error(image: Path) -> None:
    async with FakeComfy(object_info=object_info(), token="s3cret") as fake:
        async with ComfyClient(fake.url) as client:
            with pytest.raises(AuthError, match="token"):
                await client.queue()
        async with ComfyClient(fake.url, token="wrong") as client:
            with pytest.raises(AuthError):
                await client.follow("some-prompt")


async def test_host_down_is_host_unavailable(fake: FakeComfy, image: Path) -> None:
    async with ComfyClient(fake.url, reconnect_window=0.3) as client:
        fake.hold = True
        prompt_id = await _submit(client, image)
        following = asyncio.create_task(client.follow(prompt_id))
        await fake.wait_for_ws()

        await fake.down()

        with pytest.raises(HostUnavailable):
            await following
        with pytest.raises(HostUnavailable):
            await client.system_stats()


async def test_follow_survives_the_host_going_away_briefly(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    fake.hold = True
    prompt_id = await _submit(client, image)
    following = asyncio.create_task(client.follow(prompt_id))
    await fake.wait_for_ws()
    await fake.down()
    fake.release(prompt_id)
    await fake.wait_done(prompt_id)

    await fake.up()

    entry = await following
    assert pick_video(entry).filename == "i2v_00001.mp4"
    await fake.wait_for_ws(2)  # and the listener reconnected


async def test_websocket_dropped_mid_job_settles_from_history(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    # The prompt waits behind a held one until its follower is listening; otherwise it could
    # finish before `follow` starts, which then settles from history without any events.
    fake.hold = True
    first = await _submit(client, image)
    second = await _submit(client, image)
    await fake.wait_running(first)
    events: list[ComfyEvent] = []
    following = asyncio.create_task(client.follow(second, events.append))
    await fake.wait_until(lambda: any(r.path == "/queue" for r in fake.requests))
    fake.drop_ws_mid_job = True

    fake.release()
    entry = await following

    # The sampler's later progress and execution_success never reached the client.
    assert [e.value for e in events if isinstance(e, Progress)] == [1]
    assert entry["status"]["completed"] is True
    assert fake.ws_connects >= 2


async def test_history_lagging_the_websocket(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    fake.history_lag = 3
    prompt_id = await _submit(client, image)

    entry = await client.follow(prompt_id)

    assert pick_video(entry).filename == "i2v_00001.mp4"
    assert fake._jobs[prompt_id].history_lag == 0


async def test_rejoining_a_finished_prompt_reads_history(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    prompt_id = await _submit(client, image)
    await fake.wait_done(prompt_id)

    async with ComfyClient(fake.url) as restarted:
        entry = await restarted.follow(prompt_id)

    assert pick_video(entry).filename == "i2v_00001.mp4"


async def test_two_prompts_followed_at_once(
    fake: FakeComfy, client: ComfyClient, image: Path
) -> None:
    fake.hold = True
    first = await _submit(client, image)
    second = await _submit(client, image, save_video=True)
    seen: dict[str, list[ComfyEvent]] = {first: [], second: []}
    tasks = [asyncio.create_task(client.follow(p, seen[p].append)) for p in (first, second)]
    await fake.wait_running(first)

    fake.release()
    entries = await asyncio.gather(*tasks)

    assert pick_video(entries[0]).filename == "i2v_00001.mp4"
    assert pick_video(entries[1]).filename == "wanbot_00001_.mp4"
    for prompt_id, events in seen.items():
        assert events
        assert {e.prompt_id for e in events} == {prompt_id}
    assert fake.ws_connects == 1


async def test_cancelled_uploads_do_not_leak_open_files(tmp_path: Path) -> None:
    """A job cancelled while its input is being opened must not leave the file open.

    Leaked handles surface as ResourceWarning, which this suite turns into failures.
    """
    path = tmp_path / "input.png"
    path.write_bytes(media.png_bytes())
    async with FakeComfy(object_info=object_info()) as fake, ComfyClient(fake.url) as client:
        for _ in range(25):
            task = asyncio.create_task(client.upload(path, "input.png"))
            await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    # Let every opener thread finish and its done-callbacks run, then collect.
    await asyncio.get_running_loop().shutdown_default_executor()
    await asyncio.sleep(0)
    gc.collect()
