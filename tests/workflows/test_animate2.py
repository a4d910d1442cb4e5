"""Wan-Animate-2 on ComfyUI's own nodes: a photo moved like a video, clip by clip when long."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import parse_config
from bot.request import Mode
from comfy import ComfyClient, pick_video
from fakes.comfy_frames import frames_at
from fakes.comfy_schemas import animate2_schema
from fakes.comfy_server import FakeComfy
from fakes.media import png_bytes, probe, write_mp4
from tests.factories import make_params, make_request
from tests.workflows import full_object_info
from workflows.animate2 import (
    OUTPUT,
    Clip,
    build_animate2_prompt,
    clip_plan,
    missing_for_animate2,
)
from workflows.builder import upstream_nodes
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.schema import bundled_object_info
from workflows.validate import validate_prompt

MODELS = Models()
UPLOADED = FileSet[str](image="in/photo.png", pose=["in/moves.mp4"])
# Comfy-Org's template: 6 steps, CFG 1, shift 5, LCM with the simple schedule, 81-frame clips.
RECIPE = {"steps": 6, "cfg": 1.0, "shift": 5.0, "scheduler": "lcm", "frame_window": 81}


def animate2(
    hardware: Hardware | None = None, models: Models = MODELS, **params: Any
) -> dict[str, Any]:
    request = make_request(
        Mode.ANIMATE2,
        prompt="a woman in a red coat, a plain studio",
        negative_prompt="blurry",
        params=make_params(**{**RECIPE, **params}),
    )
    return build_animate2_prompt(
        request, UPLOADED, models, hardware or Hardware(), filename_prefix="wanbot/job-7"
    )


def by_class(prompt: dict[str, Any], class_type: str) -> dict[str, dict[str, Any]]:
    return {k: n["inputs"] for k, n in prompt.items() if n["class_type"] == class_type}


def only(prompt: dict[str, Any], class_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = by_class(prompt, class_type).items()
    return found


def source(prompt: dict[str, Any], link: list[Any]) -> dict[str, Any]:
    node: dict[str, Any] = prompt[link[0]]
    return node


def served(info: dict[str, Any]) -> dict[str, Any]:
    """`info` as a host with the Animate-2 package (and native i2v's text encoder) serves it."""
    return animate2_schema(info)


@pytest.mark.parametrize("frames", [81, 200])
@pytest.mark.parametrize("tiled", [False, True])
@pytest.mark.parametrize("schema", ["bundled", "full"])
def test_the_graph_is_valid_on_a_host_with_the_files(schema: str, tiled: bool, frames: int) -> None:
    info = bundled_object_info() if schema == "bundled" else full_object_info()
    prompt = animate2(Hardware(tiled_vae=tiled), frames=frames)
    problems = validate_prompt(prompt, served(info), uploaded_files=UPLOADED.all())
    assert [str(p) for p in problems] == []
    assert upstream_nodes(prompt, OUTPUT) == set(prompt)
    full = full_object_info()
    modules = {full[n["class_type"]]["python_module"].split(".")[0] for n in prompt.values()}
    assert modules <= {"nodes", "comfy_extras"}  # ComfyUI's own nodes only


def test_the_parameters_land_where_they_should() -> None:
    prompt = animate2(width=640, height=896, frames=61, seed=2**64 - 1, pose_strength=1.4, fps=24.0)
    condition_id, condition = only(prompt, "WanAnimate2ToVideo")
    assert (condition["width"], condition["height"], condition["length"]) == (640, 896, 61)
    assert (condition["pose_strength"], condition["video_frame_offset"]) == (1.4, 0)
    assert "continue_motion" not in condition
    texts = [source(prompt, condition[k])["inputs"]["text"] for k in ("positive", "negative")]
    assert texts == ["a woman in a red coat, a plain studio", "blurry"]
    # The photo goes in at the video's size, the video through LoadVideo's frames.
    photo = source(prompt, condition["reference_image"])
    assert photo["class_type"] == "ImageScale"
    assert (photo["inputs"]["width"], photo["inputs"]["height"]) == (640, 896)
    assert source(prompt, photo["inputs"]["image"])["inputs"]["image"] == "in/photo.png"
    frames = source(prompt, condition["pose_video"])
    assert frames["class_type"] == "GetVideoComponents"
    assert source(prompt, frames["inputs"]["video"])["inputs"]["file"] == "in/moves.mp4"
    for key in ("clip_vision_output", "clip_vision_output_pose"):
        assert source(prompt, condition[key])["class_type"] == "CLIPVisionEncode"

    _, sampler = only(prompt, "SamplerCustom")
    assert (sampler["noise_seed"], sampler["cfg"], sampler["add_noise"]) == (2**64 - 1, 1.0, True)
    assert sampler["positive"] == [condition_id, 0] and sampler["latent_image"] == [condition_id, 2]
    assert source(prompt, sampler["sampler"])["inputs"]["sampler_name"] == "lcm"
    sigmas = source(prompt, sampler["sigmas"])["inputs"]
    assert (sigmas["scheduler"], sigmas["steps"], sigmas["denoise"]) == ("simple", 6, 1.0)
    _, trim = only(prompt, "TrimVideoLatent")  # the photo's latent frame is not in the video
    assert trim["samples"][0] in by_class(prompt, "SamplerCustom")
    assert trim["trim_amount"] == [condition_id, 3]
    _, video = only(prompt, "CreateVideo")
    assert video["fps"] == 24.0
    assert prompt[video["images"][0]]["class_type"] == "VAEDecode"
    save = prompt[OUTPUT]
    assert save["class_type"] == "SaveVideo" and save["inputs"]["video"] == [
        next(iter(by_class(prompt, "CreateVideo"))),
        0,
    ]
    assert save["inputs"]["filename_prefix"] == "wanbot/job-7"


def test_the_model_chain_follows_comfy_orgs_template() -> None:
    prompt = animate2(shift=7.0)
    chain, link = [], only(prompt, "SamplerCustom")[1]["model"]
    while link:
        node = source(prompt, link)
        chain.append((node["class_type"], node["inputs"]))
        link = node["inputs"].get("model")
    assert [c for c, _ in chain] == [
        "ModelSamplingSD3",
        "WanAnimate2Cache",
        "LoraLoaderModelOnly",
        "UNETLoader",
    ]
    shift, cache, lora, unet = (inputs for _, inputs in chain)
    assert shift["shift"] == 7.0
    assert (cache["device"], cache["dtype"]) == ("cpu", "int8")
    assert (lora["lora_name"], lora["strength_model"]) == (MODELS.animate2_lora, 1.0)
    assert (unet["unet_name"], unet["weight_dtype"]) == (MODELS.animate2, "default")
    _, vision = only(prompt, "CLIPVisionLoader")
    assert vision["clip_name"] == "clip_vision_h.safetensors"
    _, vae = only(prompt, "VAELoader")
    assert vae["vae_name"] == "Wan2_1_VAE_bf16.safetensors"


def test_the_distilled_model_runs_without_the_lora() -> None:
    distilled = MODELS.model_copy(
        update={"animate2": "wan_animate_2_distill_int8_convrot.safetensors", "animate2_lora": ""}
    )
    prompt = animate2(models=distilled)
    assert not by_class(prompt, "LoraLoaderModelOnly")
    _, cache = only(prompt, "WanAnimate2Cache")
    assert source(prompt, cache["model"])["inputs"]["unet_name"] == distilled.animate2


def test_clip_plan() -> None:
    assert clip_plan(81, 81) == [Clip(81, 0, 81)]
    assert clip_plan(33, 77) == [Clip(33, 0, 33)]
    # Each next clip repeats the frame the one before ended on, and adds up to 80 new ones;
    # the last generates a 4n+1 length and keeps what is left.
    assert clip_plan(241, 81) == [Clip(81, 0, 81), Clip(81, 1, 80), Clip(81, 1, 80)]
    assert clip_plan(200, 81) == [Clip(81, 0, 81), Clip(81, 1, 80), Clip(41, 1, 39)]
    # A window that is not 4n+1 shrinks to one that is.
    assert clip_plan(100, 80) == [Clip(77, 0, 77), Clip(25, 1, 23)]
    for frames in range(1, 400, 4):
        assert sum(c.keep for c in clip_plan(frames, 77)) == frames


def test_a_long_video_is_made_clip_by_clip() -> None:
    prompt = animate2(frames=200, frame_window=81)
    conditions = by_class(prompt, "WanAnimate2ToVideo")
    ids = sorted(conditions, key=int)
    assert [conditions[i]["length"] for i in ids] == [81, 81, 41]
    assert len(by_class(prompt, "SamplerCustom")) == 3
    first, *later = ids
    assert conditions[first]["video_frame_offset"] == 0
    for before, after in zip(ids, later, strict=False):
        condition = conditions[after]
        # It reads the video on from where the clip before stopped, after its last frame.
        assert condition["video_frame_offset"] == [before, 5]
        assert source(prompt, condition["continue_motion"])["class_type"] == "VAEDecode"
        decoded = source(prompt, condition["continue_motion"])["inputs"]["samples"]
        assert source(prompt, decoded)["inputs"]["trim_amount"] == [before, 3]
    # The frames kept: 81, then 80 and 39 (each without the frame it repeats), joined in order.
    kept = by_class(prompt, "ImageFromBatch")
    cuts = sorted(
        (int(k), v["batch_index"], v["length"]) for k, v in kept.items() if v["batch_index"]
    )
    assert [(b, n) for _, b, n in cuts] == [(1, 80), (1, 39)]
    images = only(prompt, "CreateVideo")[1]["images"]
    assert frames_at(prompt, images) == 200


def test_only_animate2_with_its_photo_and_video() -> None:
    request = make_request(Mode.ANIMATE2, params=make_params(**RECIPE))
    with pytest.raises(ValueError, match="not i2v"):
        build_animate2_prompt(make_request(Mode.I2V), UPLOADED, MODELS, Hardware())
    with pytest.raises(ValueError, match="needs uploaded image and pose"):
        build_animate2_prompt(request, FileSet[str](image="a.png"), MODELS, Hardware())
    with pytest.raises(ValueError, match="no ComfyUI core counterpart"):
        animate2(scheduler="flowmatch_causvid")


def test_a_host_with_the_files_lacks_nothing() -> None:
    for info in (bundled_object_info(), full_object_info()):
        assert missing_for_animate2(served(info), MODELS, Hardware()) == []


def test_a_host_without_the_model_names_it() -> None:
    without = served(bundled_object_info())
    spec = without["UNETLoader"]["input"]["required"]["unet_name"]
    spec[0] = [name for name in spec[0] if name != MODELS.animate2]
    (line,) = missing_for_animate2(without, MODELS, Hardware())
    assert f"model file '{MODELS.animate2}' for UNETLoader.unet_name is not on the host" in line
    # The capture host has none of the package's files: every loader says which.
    missing = " ".join(missing_for_animate2(bundled_object_info(), MODELS, Hardware()))
    for name in (MODELS.animate2, MODELS.animate2_lora, MODELS.animate2_vae):
        assert f"'{name}'" in missing


def test_an_old_comfyui_lacks_the_core_nodes() -> None:
    old = {
        k: v
        for k, v in served(bundled_object_info()).items()
        if k not in ("WanAnimate2ToVideo", "WanAnimate2Cache")
    }
    missing = missing_for_animate2(old, MODELS, Hardware())
    assert "node 65 (WanAnimate2Cache): the host's ComfyUI has no WanAnimate2Cache node; " in (
        " ".join(missing)
    )
    assert any(line.endswith("no WanAnimate2ToVideo node; update ComfyUI") for line in missing)


def test_a_host_can_name_its_own_animate2_files() -> None:
    config = parse_config(
        {
            "comfy": {
                "hosts": [
                    {
                        "name": "gpu",
                        "url": "http://127.0.0.1:8188",
                        "models": {"animate2": "wan_animate_2_bf16.safetensors"},
                    }
                ]
            },
            "models": {"animate2_lora": "", "animate2_clip_vision": "vision/h.safetensors"},
        }
    )
    models = config.comfy.hosts[0].resolved_models(config.models)
    prompt = animate2(models=models)
    assert only(prompt, "UNETLoader")[1]["unet_name"] == "wan_animate_2_bf16.safetensors"
    assert only(prompt, "CLIPVisionLoader")[1]["clip_name"] == "vision/h.safetensors"
    assert not by_class(prompt, "LoraLoaderModelOnly")


async def test_the_fake_comfyui_runs_the_graph_to_a_video(tmp_path: Path) -> None:
    """A host without custom nodes but with the Animate-2 files takes the graph and answers
    with a SaveVideo MP4 on node 13, as for image to video, as long as the video asked for."""
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes(64, 96))
    moves = write_mp4(tmp_path / "moves.mp4", width=64, height=96, frames=121, fps=16)
    fake = FakeComfy(animate2_schema(), scale=1 / 16, max_frames=200)
    async with fake, ComfyClient(fake.url) as client:
        uploaded = FileSet[str](
            image=await client.upload(photo, "wanbot_photo.png"),
            pose=[await client.upload(moves, "wanbot_moves.mp4")],
        )
        request = make_request(
            Mode.ANIMATE2, params=make_params(**RECIPE, frames=121, width=320, height=480)
        )
        prompt = build_animate2_prompt(request, uploaded, MODELS, Hardware())
        entry = await client.follow(await client.submit(prompt))
        output = pick_video(entry)
        video = await client.download(output, tmp_path / "out.mp4")
    assert list(entry["outputs"]) == [OUTPUT]
    assert output.filename.endswith(".mp4")
    info = probe(video)
    assert (info.frames, info.width, info.height) == (121, 20, 30)
