"""Preview images: the binary frame layouts of ComfyUI 0.33 and the wrapper, and previews
followed through the real websocket of the fake ComfyUI, by prompt."""

from __future__ import annotations

import json
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy import ComfyClient, ComfyEvent, unique_upload_name
from comfy.events import Preview
from comfy.previews import PreviewFrame, parse_preview
from fakes import media
from fakes.comfy_previews import preview_frames, preview_jpeg
from fakes.comfy_server import FakeComfy
from tests.comfy.workflow import i2v_prompt, object_info

PNG = media.png_bytes(8, 8)
JPEG = preview_jpeg(1)


def test_event_1_with_an_image_format_has_no_prompt() -> None:
    frame = struct.pack(">II", 1, 2) + PNG
    assert parse_preview(frame) == PreviewFrame(PNG, "image/png", None)


def test_event_4_names_its_prompt() -> None:
    meta = json.dumps({"prompt_id": "p-1", "node_id": "27", "image_type": "image/jpeg"})
    frame = struct.pack(">II", 4, len(meta)) + meta.encode() + JPEG
    assert parse_preview(frame) == PreviewFrame(JPEG, "image/jpeg", "p-1")


def test_the_wrappers_video_frames_are_found_behind_their_header() -> None:
    frame = struct.pack(">IIII16p", 1, 1, 1, 5, b"27") + JPEG
    assert parse_preview(frame) == PreviewFrame(JPEG, "image/jpeg", None)


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        struct.pack(">II", 3, 0) + b"text",  # event 3, TEXT
        struct.pack(">II", 1, 1) + b"not an image at all, nor a header",
        struct.pack(">II", 4, 500) + b"{}",  # a metadata length past the end
        struct.pack(">II", 4, 4) + b"nope" + JPEG,  # metadata that is not JSON
    ],
)
def test_anything_else_is_not_a_preview(frame: bytes) -> None:
    assert parse_preview(frame) is None


@pytest.mark.parametrize(
    ("method", "metadata", "wrapper"),
    [("latent2rgb", True, False), ("latent2rgb", False, False), ("taesd", True, True)],
)
def test_the_fakes_frames_parse_as_the_real_ones(
    method: str, metadata: bool, wrapper: bool
) -> None:
    frames = preview_frames(
        method, metadata=metadata, prompt_id="p-9", node="27", step=2, wrapper=wrapper
    )
    (found,) = [parse_preview(f) for f in frames]
    assert found is not None and found.image == preview_jpeg(2)
    assert found.prompt_id == ("p-9" if metadata and not wrapper else None)


@pytest.fixture
async def fake() -> AsyncIterator[FakeComfy]:
    async with FakeComfy(object_info=object_info(), steps=3) as server:
        yield server


async def _follow(fake: FakeComfy, tmp_path: Path, extra: dict[str, str]) -> list[ComfyEvent]:
    image = tmp_path / "cat.png"
    image.write_bytes(media.png_bytes())
    events: list[ComfyEvent] = []
    async with ComfyClient(fake.url, reconnect_window=2.0) as client:
        name = await client.upload(image, unique_upload_name(image.name))
        prompt_id = await client.submit(i2v_prompt(name), extra_data=extra)
        await client.follow(prompt_id, events.append)
    assert all(e.prompt_id == prompt_id for e in events)
    return events


def _changing_previews_up_to_the_last(events: list[ComfyEvent]) -> None:
    """Steps in order, the last one's included (a preview before `follow` began may be lost,
    but the newest is kept for it)."""
    images = [e.image for e in events if isinstance(e, Preview)]
    steps = [next(s for s in (1, 2, 3) if preview_jpeg(s) == image) for image in images]
    assert steps and steps[-1] == 3 and steps == sorted(set(steps))


async def test_previews_reach_the_prompts_follower_named_by_the_host(
    fake: FakeComfy, tmp_path: Path
) -> None:
    events = await _follow(fake, tmp_path, {"preview_method": "latent2rgb"})
    _changing_previews_up_to_the_last(events)
    # The client announced it: the host named the prompt in each frame (event 4).
    assert any(flags.get("supports_preview_metadata") for flags in fake.socket_flags.values())


async def test_previews_without_a_prompt_id_go_to_the_prompt_that_runs(
    fake: FakeComfy, tmp_path: Path
) -> None:
    events = await _follow(fake, tmp_path, {"preview_method": "taesd"})  # the wrapper's frames
    _changing_previews_up_to_the_last(events)


async def test_a_prompt_without_a_preview_method_gets_none(fake: FakeComfy, tmp_path: Path) -> None:
    events = await _follow(fake, tmp_path, {})
    assert not [e for e in events if isinstance(e, Preview)] and fake.previews_sent == 0
