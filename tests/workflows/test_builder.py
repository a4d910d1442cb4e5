from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.params import SEED_MAX
from bot.request import InputFiles, JobRequest
from bot.resolve import resolve_params
from tests.factories import make_request
from tests.workflows import full_object_info
from workflows.builder import (
    BINDINGS,
    MODEL_LOADER_NODE,
    OUTPUT_NODE,
    SAMPLER_NODE,
    TEMPLATE_MODES,
    build_prompt,
    load_template,
    upstream_nodes,
)
from workflows.files import FileSet
from workflows.hardware import PRESETS, Hardware, HardwarePreset, Models
from workflows.params import COLOR_MATCH_CHOICES, Mode, Params
from workflows.schema import bundled_object_info, choices, input_specs
from workflows.validate import is_link, validate_prompt

BUNDLED = bundled_object_info()
SCHEDULERS = choices(BUNDLED, "WanVideoSampler", "scheduler")
UPLOADS: dict[Mode, FileSet[str]] = {
    Mode.I2V: FileSet[str](image="in/start.png"),
    Mode.INFINITETALK: FileSet[str](image="in/start.png", audio="in/speech.wav"),
    Mode.ANIMATE: FileSet[str](image="in/ref.png", pose=["in/pose.mp4"]),
}
ANIMATE_ALL = FileSet[str](
    image="in/ref.png", pose=["in/pose.mp4"], face=["in/face.mp4"], background="in/bg.png"
)


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:8188"}]}})


def request(mode: Mode, params: Params, prompt: str = "a cat dancing") -> JobRequest:
    inputs = InputFiles(image=Path("start.png"))
    return make_request(mode, params=params, prompt=prompt, inputs=inputs)


def resolved(mode: Mode, config: Config, **overrides: Any) -> JobRequest:
    result = resolve_params(mode, overrides, config, SCHEDULERS)
    return request(mode, result.params)


def assert_valid(prompt: dict[str, Any], uploaded: FileSet[str]) -> None:
    names = uploaded.all()
    problems = validate_prompt(prompt, BUNDLED, uploaded_files=names)
    assert [str(p) for p in problems] == []


def assert_valid_on_full_host(prompt: dict[str, Any]) -> None:
    problems = validate_prompt(prompt, full_object_info())
    assert [str(p) for p in problems] == []


def inputs(prompt: dict[str, Any], node_id: str) -> dict[str, Any]:
    result: dict[str, Any] = prompt[node_id]["inputs"]
    return result


CASES: list[tuple[Mode, FileSet[str], dict[str, Any]]] = [
    (mode, uploaded, overrides)
    for mode, uploaded in [*UPLOADS.items(), (Mode.ANIMATE, ANIMATE_ALL)]
    for overrides in [
        {},
        {"size": (1280, 720), "frames": 161, "steps": 60, "cfg": 30.0, "seed": SEED_MAX},
        {"size": (720, 1280), "frames": 1, "steps": 1, "cfg": 0.0, "seed": 0, "shift": 0.0},
        {"size": (128, 128), "fps": 60.0, "denoise": 0.01, "shift": 100.0},
        {"fps": 1.0, "frames": 5},
    ]
]


@pytest.mark.parametrize(("mode", "uploaded", "overrides"), CASES)
def test_built_prompts_validate(
    mode: Mode, uploaded: FileSet[str], overrides: dict[str, Any], config: Config
) -> None:
    prompt = build_prompt(resolved(mode, config, **overrides), uploaded, Models(), Hardware())
    assert_valid(prompt, uploaded)


@pytest.mark.parametrize(("mode", "uploaded", "overrides"), CASES)
def test_built_prompts_validate_on_the_full_host_schema(
    mode: Mode, uploaded: FileSet[str], overrides: dict[str, Any], config: Config
) -> None:
    prompt = build_prompt(resolved(mode, config, **overrides), uploaded, Models(), Hardware())
    assert_valid_on_full_host(prompt)


@pytest.mark.parametrize("mode", [Mode.INFINITETALK, Mode.ANIMATE])
@pytest.mark.parametrize("window", [5, 81, 161])
def test_window_extremes_validate(mode: Mode, window: int, config: Config) -> None:
    overrides: dict[str, Any] = {"frame_window": window, "frames": 161}
    if mode is Mode.INFINITETALK:
        overrides["motion_frame"] = window - 1
    else:
        overrides |= {"pose_strength": 10.0, "face_strength": 0.0}
    prompt = build_prompt(resolved(mode, config, **overrides), UPLOADS[mode], Models(), Hardware())
    assert_valid(prompt, UPLOADS[mode])


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("mode", TEMPLATE_MODES)
def test_every_scheduler_of_the_schema(mode: Mode, scheduler: str, config: Config) -> None:
    prompt = build_prompt(
        resolved(mode, config, scheduler=scheduler), UPLOADS[mode], Models(), Hardware()
    )
    assert inputs(prompt, SAMPLER_NODE[mode])["scheduler"] == scheduler
    assert_valid(prompt, UPLOADS[mode])


@pytest.mark.parametrize("color_match", COLOR_MATCH_CHOICES)
def test_every_color_match(color_match: str, config: Config) -> None:
    prompt = build_prompt(
        resolved(Mode.ANIMATE, config, color_match=color_match), ANIMATE_ALL, Models(), Hardware()
    )
    assert inputs(prompt, "10")["colormatch"] == color_match
    assert_valid(prompt, ANIMATE_ALL)


@pytest.mark.parametrize("preset", list(PRESETS))
@pytest.mark.parametrize("mode", TEMPLATE_MODES)
def test_hardware_presets(mode: Mode, preset: HardwarePreset, config: Config) -> None:
    hardware = PRESETS[preset]
    prompt = build_prompt(resolved(mode, config), UPLOADS[mode], Models(), hardware)
    assert_valid(prompt, UPLOADS[mode])
    loader = inputs(prompt, MODEL_LOADER_NODE)
    assert loader["base_precision"] == hardware.base_precision
    assert loader["attention_mode"] == hardware.attention_mode
    assert loader["block_swap_args"] == ["8", 0]
    assert inputs(prompt, "8")["blocks_to_swap"] == hardware.blocks_to_swap
    if mode is Mode.ANIMATE:
        # The Animate weights are pre-scaled fp8: the loader must auto-detect.
        assert loader["quantization"] == "disabled"
    else:
        assert loader["quantization"] == hardware.quantization
    tiled_inputs = {
        Mode.I2V: [("10", "tiled_vae"), ("12", "enable_vae_tiling")],
        Mode.INFINITETALK: [("10", "tiled_vae")],
        Mode.ANIMATE: [("10", "tiled_vae"), ("12", "enable_vae_tiling")],
    }[mode]
    for node_id, name in tiled_inputs:
        assert inputs(prompt, node_id)[name] is hardware.tiled_vae


def test_custom_hardware_values(config: Config) -> None:
    hardware = Hardware(
        base_precision="bf16",
        quantization="fp8_e5m2",
        attention_mode="sageattn",
        blocks_to_swap=0,
        tiled_vae=True,
    )
    prompt = build_prompt(resolved(Mode.I2V, config), UPLOADS[Mode.I2V], Models(), hardware)
    loader = inputs(prompt, MODEL_LOADER_NODE)
    assert (loader["base_precision"], loader["quantization"], loader["attention_mode"]) == (
        "bf16",
        "fp8_e5m2",
        "sageattn",
    )
    assert inputs(prompt, "8")["blocks_to_swap"] == 0
    assert_valid(prompt, UPLOADS[Mode.I2V])


DISTINCT = Params(
    width=704,
    height=544,
    frames=49,
    steps=23,
    cfg=4.5,
    shift=7.25,
    seed=123456789,
    scheduler="dpm++_sde",
    denoise=0.85,
    fps=24.0,
    frame_window=45,
    motion_frame=7,
    pose_strength=1.5,
    face_strength=0.75,
    color_match="mkl",
)


def common_expectations(prompt: dict[str, Any], mode: Mode) -> None:
    sampler = inputs(prompt, SAMPLER_NODE[mode])
    assert sampler["steps"] == 23
    assert sampler["cfg"] == 4.5
    assert sampler["shift"] == 7.25
    assert sampler["seed"] == 123456789
    assert sampler["scheduler"] == "dpm++_sde"
    assert sampler["denoise_strength"] == 0.85
    assert inputs(prompt, "2")["width"] == 704
    assert inputs(prompt, "2")["height"] == 544
    assert inputs(prompt, "6")["positive_prompt"] == "a cat dancing"
    assert inputs(prompt, "6")["negative_prompt"] == "blurry"
    combine = inputs(prompt, OUTPUT_NODE[mode])
    assert combine["frame_rate"] == 24.0
    assert combine["filename_prefix"] == "job-42"
    assert combine["format"] == "video/h264-mp4"
    assert combine["save_output"] is True
    assert prompt[OUTPUT_NODE[mode]]["class_type"] == "VHS_VideoCombine"
    assert inputs(prompt, "3")["clip_name"] == "cv.safetensors"
    assert inputs(prompt, "5")["model_name"] == "t5.safetensors"
    assert inputs(prompt, "7")["model_name"] == "vae.safetensors"


MODELS = Models(
    i2v="i2v.safetensors",
    infinitetalk="talk.safetensors",
    animate="animate.safetensors",
    t5="t5.safetensors",
    vae="vae.safetensors",
    clip_vision="cv.safetensors",
    wav2vec="w2v.safetensors",
)


def build_distinct(mode: Mode, uploaded: FileSet[str]) -> dict[str, Any]:
    return build_prompt(
        request(mode, DISTINCT), uploaded, MODELS, Hardware(), filename_prefix="job-42"
    )


@dataclass(frozen=True)
class PlainRequest:
    """Not a `JobRequest`: the builder needs only the mode, the prompts and the parameters."""

    mode: Mode
    prompt: str
    negative_prompt: str
    params: Params


@pytest.mark.parametrize("mode", TEMPLATE_MODES)
def test_any_request_of_the_right_shape_builds_the_same_prompt(mode: Mode) -> None:
    job = request(mode, DISTINCT)
    plain = PlainRequest(mode, job.prompt, job.negative_prompt, job.params)
    uploaded = ANIMATE_ALL if mode is Mode.ANIMATE else UPLOADS[mode]
    assert build_prompt(plain, uploaded, MODELS, Hardware()) == build_prompt(
        job, uploaded, MODELS, Hardware()
    )


def test_i2v_bindings() -> None:
    prompt = build_distinct(Mode.I2V, UPLOADS[Mode.I2V])
    common_expectations(prompt, Mode.I2V)
    assert inputs(prompt, "1")["image"] == "in/start.png"
    assert inputs(prompt, MODEL_LOADER_NODE)["model"] == "i2v.safetensors"
    encode = inputs(prompt, "10")
    assert (encode["width"], encode["height"], encode["num_frames"]) == (704, 544, 49)
    assert encode["start_image"] == ["2", 0]
    assert encode["clip_embeds"] == ["4", 0]


def test_infinitetalk_bindings() -> None:
    prompt = build_distinct(Mode.INFINITETALK, UPLOADS[Mode.INFINITETALK])
    common_expectations(prompt, Mode.INFINITETALK)
    assert inputs(prompt, MODEL_LOADER_NODE)["model"] == "i2v.safetensors"
    assert inputs(prompt, MODEL_LOADER_NODE)["multitalk_model"] == ["14", 0]
    assert inputs(prompt, "14")["model"] == "talk.safetensors"
    assert inputs(prompt, "15")["model"] == "w2v.safetensors"
    assert inputs(prompt, "16")["audio"] == "in/speech.wav"
    embeds = inputs(prompt, "17")
    assert (embeds["num_frames"], embeds["fps"]) == (49, 24.0)
    talk = inputs(prompt, "10")
    assert (talk["width"], talk["height"]) == (704, 544)
    assert (talk["frame_window_size"], talk["motion_frame"]) == (45, 7)
    assert (talk["mode"], talk["colormatch"]) == ("infinitetalk", "disabled")
    assert inputs(prompt, SAMPLER_NODE[Mode.INFINITETALK])["multitalk_embeds"] == ["17", 0]
    assert prompt["12"]["class_type"] == "WanVideoPassImagesFromSamples"
    assert inputs(prompt, OUTPUT_NODE[Mode.INFINITETALK])["audio"] == ["16", 0]


def test_animate_bindings_with_every_input() -> None:
    prompt = build_distinct(Mode.ANIMATE, ANIMATE_ALL)
    common_expectations(prompt, Mode.ANIMATE)
    assert inputs(prompt, MODEL_LOADER_NODE)["model"] == "animate.safetensors"
    assert inputs(prompt, "1")["image"] == "in/ref.png"
    pose = inputs(prompt, "20")
    assert pose["video"] == "in/pose.mp4"
    assert (pose["force_rate"], pose["custom_width"], pose["custom_height"]) == (24.0, 704, 544)
    assert pose["frame_load_cap"] == 49
    face = inputs(prompt, "21")
    assert face["video"] == "in/face.mp4"
    assert (face["force_rate"], face["custom_width"], face["custom_height"]) == (24.0, 512, 512)
    assert inputs(prompt, "22")["image"] == "in/bg.png"
    assert (inputs(prompt, "23")["width"], inputs(prompt, "23")["height"]) == (704, 544)
    assert inputs(prompt, "24")["amount"] == 49
    embeds = inputs(prompt, "10")
    assert (embeds["width"], embeds["height"], embeds["num_frames"]) == (704, 544, 49)
    assert embeds["frame_window_size"] == 45
    assert embeds["colormatch"] == "mkl"
    assert (embeds["pose_strength"], embeds["face_strength"]) == (1.5, 0.75)
    assert embeds["ref_images"] == ["2", 0]
    assert embeds["pose_images"] == ["20", 0]
    assert embeds["face_images"] == ["21", 0]
    assert embeds["bg_images"] == ["24", 0]


@pytest.mark.parametrize(
    ("uploaded", "absent"),
    [
        (UPLOADS[Mode.ANIMATE], {"21", "22", "23", "24"}),
        (FileSet[str](image="r.png", pose=["p.mp4"], face=["f.mp4"]), {"22", "23", "24"}),
        (FileSet[str](image="r.png", pose=["p.mp4"], background="b.png"), {"21"}),
    ],
)
def test_animate_without_optional_inputs_drops_their_nodes(
    uploaded: FileSet[str], absent: set[str], config: Config
) -> None:
    prompt = build_prompt(resolved(Mode.ANIMATE, config), uploaded, Models(), Hardware())
    assert not absent & set(prompt)
    embeds = inputs(prompt, "10")
    assert ("face_images" in embeds) is ("21" in prompt)
    assert ("bg_images" in embeds) is ("24" in prompt)
    assert_valid(prompt, uploaded)


@pytest.mark.parametrize(("mode", "uploaded"), [*UPLOADS.items(), (Mode.ANIMATE, ANIMATE_ALL)])
def test_no_dangling_nodes_or_links(mode: Mode, uploaded: FileSet[str], config: Config) -> None:
    prompt = build_prompt(resolved(mode, config), uploaded, Models(), Hardware())
    assert upstream_nodes(prompt, OUTPUT_NODE[mode]) == set(prompt)
    for node in prompt.values():
        for value in node["inputs"].values():
            if is_link(value):
                assert value[0] in prompt


@pytest.mark.parametrize(
    ("mode", "uploaded", "missing"),
    [
        (Mode.I2V, FileSet[str](image=""), "image"),
        (Mode.INFINITETALK, FileSet[str](image="a.png"), "audio"),
        (Mode.ANIMATE, FileSet[str](image="a.png", face=["f.mp4"]), "pose"),
    ],
)
def test_missing_required_upload_is_a_value_error(
    mode: Mode, uploaded: FileSet[str], missing: str, config: Config
) -> None:
    with pytest.raises(ValueError, match=missing):
        build_prompt(resolved(mode, config), uploaded, Models(), Hardware())


@pytest.mark.parametrize("mode", TEMPLATE_MODES)
def test_every_binding_targets_a_real_input(mode: Mode) -> None:
    template = load_template(mode)
    for node_id, name, _ in BINDINGS[mode]:
        assert node_id in template, f"binding to absent node {node_id}"
        assert name in template[node_id]["inputs"], f"{node_id}.{name} not in template"
        specs = input_specs(BUNDLED[template[node_id]["class_type"]])
        assert name in specs, f"{template[node_id]['class_type']} has no input {name}"


@pytest.mark.parametrize("mode", TEMPLATE_MODES)
def test_wrong_model_names_are_caught(mode: Mode, config: Config) -> None:
    prompt = build_prompt(resolved(mode, config), UPLOADS[mode], MODELS, Hardware())
    problems = validate_prompt(prompt, BUNDLED)
    assert problems
    assert all(p.message.startswith("model file '") for p in problems)


FORBIDDEN = ("Lora", "TorchCompile", "Sam2", "DWPre", "MelBand", "CLIPTextEncode", "KSampler")


@pytest.mark.parametrize("mode", TEMPLATE_MODES)
def test_templates_use_only_wrapper_nodes_we_can_run(mode: Mode) -> None:
    classes = {node["class_type"] for node in load_template(mode).values()}
    assert not [c for c in classes for bad in FORBIDDEN if bad.lower() in c.lower()]
    assert "WanVideoSampler" in classes
    assert all(node_id.isdigit() for node_id in load_template(mode))
