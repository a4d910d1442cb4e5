"""`lookup` and `cancel` through ComfyUI's jobs API on hosts of 0.26 or later, else as before.

The fake ComfyUI reports the version a test gives it and, like ComfyUI, has the jobs API's
routes only from the version that brought them (GET 0.6.0, cancel 0.26.0).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from comfy import ComfyClient, ComfyError, ExecutionInterrupted, NotComfyUI, unique_upload_name
from comfy.follow import PromptState
from comfy.jobs import has_jobs_api, parse_version
from fakes import media
from fakes.comfy_server import FakeComfy
from tests.comfy.workflow import i2v_prompt, object_info

NEW = ["0.26.0", "v0.26.1", "0.33.0"]
OLD = ["0.3.45", "0.5.1", "0.25.0"]  # 0.25.0 has GET /api/jobs/{id}, but no cancel


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(media.png_bytes())
    return path


@pytest.fixture
async def host(request: pytest.FixtureRequest) -> AsyncIterator[FakeComfy]:
    """A fake that holds every job at its first step, reporting the version of the param."""
    async with FakeComfy(object_info=object_info(), hold=True, version=request.param) as fake:
        yield fake


@pytest.fixture
async def client(host: FakeComfy) -> AsyncIterator[ComfyClient]:
    async with ComfyClient(host.url, reconnect_window=2.0) as comfy:
        yield comfy


async def _submit(client: ComfyClient, image: Path) -> str:
    name = await client.upload(image, unique_upload_name(image.name))
    return await client.submit(i2v_prompt(name))


async def _two_held(host: FakeComfy, client: ComfyClient, image: Path) -> tuple[str, str]:
    """Two prompts: the first running (held), the second pending behind it."""
    first = await _submit(client, image)
    second = await _submit(client, image)
    await host.wait_running(first)
    return first, second


def _asked(host: FakeComfy, since: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in host.requests[since:]]


@pytest.mark.parametrize(
    ("version", "parsed", "has_it"),
    [
        ("0.3.45", (0, 3, 45), False),
        ("0.25.9", (0, 25, 9), False),
        ("0.26", (0, 26, 0), True),
        ("0.26.0", (0, 26, 0), True),
        ("v0.26.1", (0, 26, 1), True),
        ("0.33.0", (0, 33, 0), True),
        ("0.27.0-rc1", (0, 27, 0), True),
        ("1.0.0", (1, 0, 0), True),
        ("unknown", None, False),
        ("", None, False),
        (None, None, False),
        (33, None, False),
    ],
)
def test_versions_compare_component_by_component(
    version: object, parsed: tuple[int, ...] | None, has_it: bool
) -> None:
    assert parse_version(version) == parsed
    assert has_jobs_api({"system": {"comfyui_version": version}}) is has_it


def test_a_host_that_does_not_say_its_version_is_taken_as_older() -> None:
    assert has_jobs_api({"system": {"os": "linux"}}) is False
    assert has_jobs_api({"system": "linux"}) is False


@pytest.mark.parametrize("host", NEW, indirect=True)
async def test_lookup_on_a_new_host_asks_the_jobs_api(
    host: FakeComfy, client: ComfyClient, image: Path
) -> None:
    first, second = await _two_held(host, client, image)
    since = len(host.requests)

    assert await client.lookup("never-sent") is None  # its 404, at once
    assert await client.lookup(first) is PromptState.RUNNING
    assert await client.lookup(second) is PromptState.PENDING
    host.release()
    await host.wait_done(second)
    assert await client.lookup(first) is PromptState.DONE

    jobs = [f"GET /api/jobs/{p}" for p in ("never-sent", first, second, first)]
    assert _asked(host, since) == ["GET /system_stats", *jobs]  # the version read once


@pytest.mark.parametrize("host", ["0.33.0"], indirect=True)
async def test_a_failed_prompt_is_done_on_a_new_host(
    host: FakeComfy, client: ComfyClient, image: Path
) -> None:
    host.hold, host.fail_with = False, "CUDA out of memory"
    prompt_id = await _submit(client, image)
    await host.wait_done(prompt_id)

    assert await client.lookup(prompt_id) is PromptState.DONE
    assert f"GET /api/jobs/{prompt_id}" in _asked(host, 0)


@pytest.mark.parametrize("host", NEW, indirect=True)
async def test_cancel_on_a_new_host_dequeues_a_pending_prompt(
    host: FakeComfy, client: ComfyClient, image: Path
) -> None:
    first, second = await _two_held(host, client, image)
    following = asyncio.create_task(client.follow(second))
    await host.wait_until(lambda: f"GET /history/{second}" in _asked(host, 0))
    since = len(host.requests)

    assert await client.cancel(second) is True

    with pytest.raises(ExecutionInterrupted, match="removed from the queue"):
        await following
    assert host.deleted == [second]
    assert host.interrupts == []
    asked = _asked(host, since)  # with the follower's own reads
    assert f"POST /api/jobs/{second}/cancel" in asked
    assert not {"POST /queue", "POST /interrupt"} & set(asked)
    assert await client.lookup(second) is None
    host.release(first)
    await client.follow(first)


@pytest.mark.parametrize("host", NEW, indirect=True)
async def test_cancel_on_a_new_host_interrupts_a_running_prompt(
    host: FakeComfy, client: ComfyClient, image: Path
) -> None:
    prompt_id = await _submit(client, image)
    following = asyncio.create_task(client.follow(prompt_id))
    await host.wait_running(prompt_id)
    since = len(host.requests)

    assert await client.cancel(prompt_id) is True

    with pytest.raises(ExecutionInterrupted, match="was interrupted"):
        await following
    assert host.interrupts == [prompt_id]
    asked = _asked(host, since)  # with the follower's own reads
    assert f"POST /api/jobs/{prompt_id}/cancel" in asked
    assert not {"POST /queue", "POST /interrupt"} & set(asked)
    assert await client.lookup(prompt_id) is PromptState.DONE
    assert host.history[prompt_id]["status"]["status_str"] == "error"


@pytest.mark.parametrize("host", ["0.33.0"], indirect=True)
async def test_a_cancel_acts_on_the_state_the_prompt_is_in_when_it_arrives(
    host: FakeComfy, client: ComfyClient, image: Path
) -> None:
    """ComfyUI decides under its queue's lock: a prompt seen pending that has started since is
    interrupted, and a cancel of one that has finished never lands on the one after it."""
    first, second = await _two_held(host, client, image)
    third = await _submit(client, image)
    assert await client.lookup(second) is PromptState.PENDING
    host.release(first)
    await host.wait_running(second)

    assert await client.cancel(first) is False  # finished: the running second is left alone
    assert host.interrupts == []
    assert await client.cancel(second) is True  # seen pending, running by now: interrupted
    assert host.interrupts == [second]
    assert host.deleted == []

    with pytest.raises(ExecutionInterrupted):
        await client.follow(second)
    host.release(third)
    await client.follow(third)
    assert host.history[third]["status"]["status_str"] == "success"


@pytest.mark.parametrize("host", ["0.33.0"], indirect=True)
async def test_cancel_of_an_unknown_prompt_on_a_new_host_is_false(
    host: FakeComfy, client: ComfyClient
) -> None:
    assert await client.cancel("never-sent") is False
    assert _asked(host, 0) == ["GET /system_stats", "POST /api/jobs/never-sent/cancel"]


@pytest.mark.parametrize("host", OLD, indirect=True)
async def test_an_older_host_is_asked_through_queue_history_and_interrupt(
    host: FakeComfy, client: ComfyClient, image: Path
) -> None:
    first, second = await _two_held(host, client, image)

    assert await client.lookup("never-sent") is None
    assert await client.lookup(first) is PromptState.RUNNING
    assert await client.lookup(second) is PromptState.PENDING
    assert await client.cancel(second) is True
    assert await client.cancel(first) is True
    with pytest.raises(ExecutionInterrupted):
        await client.follow(first)
    assert await client.lookup(first) is PromptState.DONE

    asked = _asked(host, 0)
    assert not [call for call in asked if "/api/jobs" in call]
    assert {"GET /queue", "GET /history/never-sent", "POST /queue", "POST /interrupt"} <= set(asked)
    assert (host.deleted, host.interrupts) == ([second], [first])


@pytest.mark.parametrize("host", ["0.25.0"], indirect=True)
async def test_the_version_is_read_once_and_again_with_each_system_stats(
    host: FakeComfy, client: ComfyClient, image: Path
) -> None:
    prompt_id = await _submit(client, image)
    await host.wait_running(prompt_id)
    for _ in range(2):
        assert await client.lookup(prompt_id) is PromptState.RUNNING
    host.version = "0.26.0"  # ComfyUI updated (a restart would also have emptied its queue)
    assert await client.lookup(prompt_id) is PromptState.RUNNING  # as the version read first
    assert f"GET /api/jobs/{prompt_id}" not in _asked(host, 0)
    since = len(host.requests)

    await client.system_stats()  # as the engine's health check does
    assert await client.lookup(prompt_id) is PromptState.RUNNING

    assert _asked(host, since) == ["GET /system_stats", f"GET /api/jobs/{prompt_id}"]
    assert _asked(host, 0).count("GET /system_stats") == 2
    host.release()


@pytest.mark.parametrize("host", ["0.33.0"], indirect=True)
async def test_a_404_without_comfyuis_json_is_not_an_unknown_prompt(
    host: FakeComfy, client: ComfyClient
) -> None:
    # A host that says 0.33 behind a proxy that does not pass /api/jobs on.
    host.answers["GET /api/jobs/"] = (404, "text/plain", "404: Not Found")

    with pytest.raises(ComfyError, match="GET /api/jobs/some-prompt answered 404"):
        await client.lookup("some-prompt")


@pytest.mark.parametrize("host", ["0.33.0"], indirect=True)
async def test_a_job_status_comfyui_never_gives_is_not_comfyui(
    host: FakeComfy, client: ComfyClient
) -> None:
    host.answers["GET /api/jobs/"] = (200, "application/json", '{"id": "x", "status": "ok"}')

    with pytest.raises(NotComfyUI, match="GET /api/jobs/x gave"):
        await client.lookup("x")


@pytest.mark.parametrize(
    ("version", "get_status", "cancel_status"),
    [("0.5.1", 404, 404), ("0.25.0", 200, 404), ("0.26.0", 200, 200)],
)
async def test_the_fake_has_the_routes_from_the_versions_that_brought_them(
    image: Path, version: str, get_status: int, cancel_status: int
) -> None:
    async with (
        FakeComfy(object_info=object_info(), hold=True, version=version) as fake,
        ComfyClient(fake.url) as client,
        aiohttp.ClientSession(fake.url) as http,
    ):
        prompt_id = await _submit(client, image)
        async with http.get(f"/api/jobs/{prompt_id}") as got:
            assert got.status == get_status
            body = await (got.json() if got.status == 200 else got.text())
        async with http.post(f"/api/jobs/{prompt_id}/cancel") as cancelled:
            assert cancelled.status == cancel_status
            answer = await (cancelled.json() if cancelled.status == 200 else cancelled.text())
        async with http.get("/api/jobs/never-sent") as unknown:
            unknown_body = await unknown.text()
        fake.release()

    if get_status == 200:
        assert body["id"] == prompt_id and body["status"] in ("pending", "in_progress")
        assert unknown.status == 404 and "Job not found" in unknown_body
    else:
        assert body == "404: Not Found"
    assert answer == ({"cancelled": True} if cancel_status == 200 else "404: Not Found")
