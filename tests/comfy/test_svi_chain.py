"""A long video's clips on the fake ComfyUI: real SVI clip prompts, sent by the real client.

The fake makes every SVI clip traceable: its video shows its clip number, its saved latent
records that number and the seed, and the next clip's number comes from the latent it loads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import parse_config
from bot.request import InputFiles, Mode
from bot.resolve import resolve_params
from comfy import (
    ComfyClient,
    ExecutionFailed,
    OutputFile,
    PromptRejected,
    pick_video,
    unique_upload_name,
)
from fakes import media
from fakes.comfy_latents import ClipRecord, latent_bytes, read_latent
from fakes.comfy_server import FakeComfy
from fakes.comfy_validation import with_models
from tests.factories import make_request
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.schema import bundled_object_info, choices
from workflows.svi import MOTION_SAVE, build_svi_clip, clip_seed

MODELS = Models()
FRAMES, SEED = 17, 41
CONFIG = parse_config({"comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:8188"}]}})


def host_schema() -> dict[str, Any]:
    """The bundled schema on a host that has the fast preset's and SVI's files."""
    return with_models(
        bundled_object_info(),
        [MODELS.i2v_fast_high, MODELS.i2v_fast_low],
        [MODELS.fast_lora_high, MODELS.fast_lora_low, MODELS.svi_lora_high, MODELS.svi_lora_low],
    )


def clip_prompt(image: str, index: int, latent: str | None) -> dict[str, Any]:
    schedulers = choices(bundled_object_info(), "WanVideoSampler", "scheduler")
    overrides = {"quality": "fast", "frames": FRAMES, "seed": SEED}
    params = resolve_params(Mode.I2V, overrides, CONFIG, schedulers).params
    request = make_request(
        Mode.I2V, params=params, prompt="a cat", inputs=InputFiles(image=Path("start.png"))
    )
    return build_svi_clip(
        request,
        FileSet[str](image=image),
        MODELS,
        Hardware(),
        clip_index=index,
        previous_latent=latent,
        filename_prefix="wanbot/job-7",
    )


@dataclass
class Host:
    """The fake host with the clips' files, the client talking to it, the uploaded start image."""

    fake: FakeComfy
    client: ComfyClient
    start: str


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[Host]:
    image = tmp_path / "start.png"
    image.write_bytes(media.png_bytes())
    async with (
        FakeComfy(object_info=host_schema()) as fake,
        ComfyClient(fake.url, reconnect_window=2.0) as client,
    ):
        yield Host(fake, client, await client.upload(image, unique_upload_name(image.name)))


async def run_clip(
    client: ComfyClient, prompt: dict[str, Any], dest: Path
) -> tuple[Path, Path, OutputFile]:
    """Submit a clip, follow it to the end, download its video and latent beside `dest`."""
    entry = await client.follow(await client.submit(prompt))
    (item,) = entry["outputs"][MOTION_SAVE]["latents"]
    latent = OutputFile(item["filename"], item["subfolder"], item["type"])
    video = await client.download(pick_video(entry), dest.with_suffix(".mp4"))
    return video, await client.download(latent, dest.with_suffix(".latent")), latent


async def test_a_chain_of_two_clips_hands_the_latent_on(host: Host, tmp_path: Path) -> None:
    client, start = host.client, host.start
    video0, latent0, saved0 = await run_clip(client, clip_prompt(start, 0, None), tmp_path / "c0")
    # ComfyUI's SaveLatent naming: the prefix's folder, then `<name>_<counter:05>_.latent`.
    assert (saved0.filename, saved0.subfolder) == ("job-7_motion_00001_.latent", "wanbot")
    assert media.clip_frames(video0) == [(0, i) for i in range(FRAMES)]
    assert read_latent(latent0.read_bytes()) == ClipRecord(0, clip_seed(SEED, 0))

    uploaded = await client.upload(latent0, unique_upload_name(latent0.name))
    listed = (await client.object_info())["LoadLatent"]["input"]["required"]["latent"][0]
    assert listed == [uploaded]  # LoadLatent lists the input folder's `.latent` files
    video1, latent1, saved1 = await run_clip(
        client, clip_prompt(start, 1, uploaded), tmp_path / "c1"
    )
    assert saved1.filename == "job-7_motion_00002_.latent"
    assert media.clip_numbers(video1) == [1] * FRAMES
    assert read_latent(latent1.read_bytes()) == ClipRecord(1, clip_seed(SEED, 1))


async def test_a_latent_never_uploaded_is_refused_like_comfyui_does(host: Host) -> None:
    with pytest.raises(PromptRejected) as caught:
        await host.client.submit(clip_prompt(host.start, 1, "never-uploaded.latent"))

    assert caught.value.node_errors["41"]["class_type"] == "LoadLatent"
    (error,) = caught.value.node_errors["41"]["errors"]
    assert error["type"] == "custom_validation_failed"
    assert error["details"] == "latent - Invalid latent file: never-uploaded.latent"
    assert sorted(caught.value.node_errors["41"]["dependent_outputs"]) == ["13", "43"]
    assert not host.fake.accepted


async def test_a_file_that_is_no_latent_fails_when_loaded(host: Host, tmp_path: Path) -> None:
    junk = tmp_path / "junk.latent"
    junk.write_bytes(b"not a latent")
    name = await host.client.upload(junk, unique_upload_name(junk.name))

    prompt_id = await host.client.submit(clip_prompt(host.start, 1, name))  # it exists: valid
    with pytest.raises(ExecutionFailed) as caught:
        await host.client.follow(prompt_id)

    assert (caught.value.node_id, caught.value.node_type) == ("41", "LoadLatent")
    assert caught.value.exception_type == "safetensors_rust.SafetensorError"
    assert "HeaderTooLarge" in caught.value.exception_message


async def test_the_clip_number_comes_from_the_loaded_latent(host: Host, tmp_path: Path) -> None:
    latent = tmp_path / "from-clip-4.latent"
    latent.write_bytes(latent_bytes(ClipRecord(4, 123), {}))
    name = await host.client.upload(latent, unique_upload_name(latent.name))

    video, saved, _ = await run_clip(host.client, clip_prompt(host.start, 1, name), tmp_path / "c")

    assert media.clip_numbers(video) == [5] * FRAMES
    assert read_latent(saved.read_bytes()) == ClipRecord(5, clip_seed(SEED, 1))
