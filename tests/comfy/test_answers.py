"""Hosts that answer, but not like ComfyUI: wrong URLs, proxies' pages, server errors, stalls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from comfy import ComfyClient, HostError, HostUnavailable, NotComfyUI
from fakes import media
from fakes.comfy_server import FakeComfy
from tests.comfy.workflow import i2v_prompt, object_info

LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Sign in &middot; Proxy</title></head>"
    "<body><form method='post'><input name='user'></form></body></html>"
)
Call = Callable[[ComfyClient, Path], Awaitable[object]]

CALLS: dict[str, Call] = {
    "GET /system_stats": lambda client, image: client.system_stats(),
    "GET /object_info": lambda client, image: client.object_info(),
    "GET /queue": lambda client, image: client.queue(),
    "GET /history/": lambda client, image: client.history("some-prompt"),
    "POST /upload/image": lambda client, image: client.upload(image, "in.png"),
    "POST /prompt": lambda client, image: client.submit(i2v_prompt("example.png")),
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfy]:
    async with FakeComfy(object_info=object_info()) as server:
        yield server


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    path.write_bytes(media.png_bytes())
    return path


@pytest.mark.parametrize("endpoint", list(CALLS))
@pytest.mark.parametrize(
    ("content_type", "body", "described"),
    [
        ("text/html", LOGIN_PAGE, "an HTML page titled 'Sign in · Proxy'"),
        ("application/json", '{"status": "ok", "version": 2}', "JSON of another shape"),
        ("application/json", "[1, 2, 3]", "JSON of another shape"),
        ("text/plain", "", "an empty answer"),
    ],
)
async def test_an_answer_of_another_shape_is_not_comfyui(
    fake: FakeComfy, image: Path, endpoint: str, content_type: str, body: str, described: str
) -> None:
    fake.answers[endpoint] = (200, content_type, body)

    async with ComfyClient(fake.url) as client:
        with pytest.raises(NotComfyUI) as caught:
            await CALLS[endpoint](client, image)

    message = str(caught.value)
    assert message.startswith(f"{fake.url} did not answer like ComfyUI ({endpoint}")
    assert described in message
    assert message.endswith("is the URL right?")
    assert "\n" not in message


@pytest.mark.parametrize("endpoint", ["GET /object_info", "GET /queue"])
async def test_json_with_the_right_keys_but_wrong_values_is_not_comfyui(
    fake: FakeComfy, image: Path, endpoint: str
) -> None:
    body = (
        '{"KSampler": "a sampler"}'
        if endpoint == "GET /object_info"
        else '{"queue_running": [], "queue_pending": ["p1"]}'
    )
    fake.answers[endpoint] = (200, "application/json", body)

    async with ComfyClient(fake.url) as client:
        with pytest.raises(NotComfyUI, match="did not answer like ComfyUI"):
            await CALLS[endpoint](client, image)


async def test_a_server_error_from_prompt_is_not_an_unreachable_host(fake: FakeComfy) -> None:
    fake.answers["POST /prompt"] = (
        500,
        "text/plain",
        "500 Internal Server Error\n\nServer got itself in trouble",
    )

    async with ComfyClient(fake.url) as client:
        with pytest.raises(HostError) as caught:
            await client.submit(i2v_prompt("example.png"))

    assert not isinstance(caught.value, HostUnavailable)
    assert str(caught.value) == (
        f"{fake.url}: POST /prompt answered 500 Internal Server Error: "
        "500 Internal Server Error Server got itself in trouble"
    )


async def test_a_long_html_error_page_is_cut_to_one_short_line(fake: FakeComfy) -> None:
    page = "<html><body><h1>Oops</h1><script>var x = 1;</script>" + "<p>word</p>" * 500
    fake.answers["GET /object_info"] = (500, "text/html", page + "</body></html>")

    async with ComfyClient(fake.url) as client:
        with pytest.raises(HostError) as caught:
            await client.object_info()

    message = str(caught.value)
    assert "\n" not in message and "<" not in message and "var x" not in message
    assert ": Oops word word" in message
    assert len(message) < 250


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_gateway_error_is_an_unreachable_host(fake: FakeComfy, status: int) -> None:
    fake.answers["GET /system_stats"] = (status, "text/html", "<title>Bad Gateway</title>")

    async with ComfyClient(fake.url) as client:
        with pytest.raises(HostUnavailable) as caught:
            await client.system_stats()

    assert not isinstance(caught.value, NotComfyUI)
    assert f"GET /system_stats answered {status}" in str(caught.value)
    assert str(caught.value).endswith(": Bad Gateway")


async def test_a_websocket_upgrade_that_never_completes_is_bounded(fake: FakeComfy) -> None:
    fake.stall_ws = True

    async with ComfyClient(fake.url, timeout=0.3) as client:
        await client.object_info()  # plain HTTP works
        with pytest.raises(HostUnavailable) as caught:
            await client.submit(i2v_prompt("example.png"))

    assert "the websocket handshake (GET /ws) got no answer in time" in str(caught.value)
    assert fake.accepted == []


async def test_a_proxy_that_does_not_pass_websocket_upgrades(fake: FakeComfy) -> None:
    fake.answers["GET /ws"] = (200, "text/html", LOGIN_PAGE)

    async with ComfyClient(fake.url, timeout=0.3) as client:
        with pytest.raises(HostUnavailable) as caught:
            await client.submit(i2v_prompt("example.png"))

    assert "handshake was answered 200 instead of 101" in str(caught.value)
    assert "pass WebSocket upgrades" in str(caught.value)
