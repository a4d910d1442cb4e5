"""Image to video on ComfyUI's own nodes: the two Wan2.2 experts, no custom node pack."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.request import InputFiles, JobRequest, Mode
from bot.resolve import resolve_params
from tests.factories import make_request
from tests.workflows import full_object_info
from workflows.builder import upstream_nodes
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.native import (
    NATIVE_SCHEDULERS,
    OUTPUT,
    build_native_prompt,
    ksampler_settings,
    missing_for_native,
)
from workflows.schema import bundled_object_info, choices
from workflows.validate import validate_prompt

MODELS = Models()
UPLOADED = FileSet[str](image="in/start.png")
WITH_END = FileSet[str](image="in/start.png", end="in/end.png")
BUNDLED = bundled_object_info()
SCHEDULERS = choices(BUNDLED, "WanVideoSampler", "scheduler")
# The 2026 fast recipe of lightx2v's Wan2.2 I2V 4-step LoRAs: 4 steps split 2/2, CFG 1, shift 5,
# euler (Comfy-Org's template: euler sampler, simple schedule).
RECIPE = {"quality": "fast", "steps": 4, "split": 2, "cfg": 1.0, "shift": 5.0}


def serving(info: dict[str, Any], models: Models = MODELS) -> dict[str, Any]:
    """`info` as a host with the native model files in its model folders serves it (the real
    dump lists only the capture host's placeholder files, and no LoRA)."""
    served = copy.deepcopy(info)
    for class_type, name, files in (
        ("UNETLoader", "unet_name", (models.native_i2v_high, models.native_i2v_low)),
        ("LoraLoaderModelOnly", "lora_name", (models.native_lora_high, models.native_lora_low)),
        ("CLIPLoader", "clip_name", (models.native_text_encoder,)),
        ("VAELoader", "vae_name", (models.native_vae,)),
    ):
        spec = served[class_type]["input"]["required"][name]
        spec[0] = sorted({*spec[0], *files})
    return served


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:8188"}]}})


def i2v(config: Config, prompt: str = "a cat", **overrides: Any) -> JobRequest:
    resolved = resolve_params(Mode.I2V, overrides, config, SCHEDULERS)
    inputs = InputFiles(image=Path("start.png"))
    return make_request(
        Mode.I2V,
        params=resolved.params,
        prompt=prompt,
        negative_prompt="blurry, static",
        inputs=inputs,
    )


def native(
    config: Config,
    uploaded: FileSet[str] = UPLOADED,
    hardware: Hardware | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    return build_native_prompt(
        i2v(config, **overrides),
        uploaded,
        MODELS,
        hardware or Hardware(),
        filename_prefix="wanbot/job-9",
    )


def by_class(prompt: dict[str, Any], class_type: str) -> dict[str, dict[str, Any]]:
    return {k: n for k, n in prompt.items() if n["class_type"] == class_type}


def only(prompt: dict[str, Any], class_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = by_class(prompt, class_type).items()
    return found[0], found[1]["inputs"]


def samplers(prompt: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(high-noise pass, low-noise pass): the second samples the first's latent."""
    passes = by_class(prompt, "KSamplerAdvanced")
    assert len(passes) == 2
    (low,) = [n["inputs"] for n in passes.values() if n["inputs"]["latent_image"][0] in passes]
    return passes[low["latent_image"][0]]["inputs"], low


def loaded_by(prompt: dict[str, Any], link: list[Any]) -> list[str]:
    """The chain of node classes a sampler's model goes through, loader last."""
    chain = []
    while link:
        node = prompt[link[0]]
        chain.append(node["class_type"])
        link = node["inputs"].get("model")
    return chain


@pytest.mark.parametrize("uploaded", [UPLOADED, WITH_END], ids=["start", "start+end"])
@pytest.mark.parametrize("quality", ["fast", "standard"])
@pytest.mark.parametrize("schema", ["bundled", "full"])
def test_each_graph_is_valid_on_a_host_with_the_files(
    schema: str, quality: str, uploaded: FileSet[str], config: Config
) -> None:
    info = BUNDLED if schema == "bundled" else full_object_info()
    prompt = native(config, uploaded, quality=quality)
    problems = validate_prompt(prompt, serving(info), uploaded_files=uploaded.all())
    assert [str(p) for p in problems] == []
    assert upstream_nodes(prompt, OUTPUT) == set(prompt)


def test_only_comfyui_core_nodes(config: Config) -> None:
    full = full_object_info()
    prompt = native(config, WITH_END, Hardware(tiled_vae=True), quality="fast")
    modules = {n["class_type"]: full[n["class_type"]]["python_module"] for n in prompt.values()}
    assert {m.split(".")[0] for m in modules.values()} <= {"nodes", "comfy_extras"}, modules


def test_the_parameters_land_where_they_should(config: Config) -> None:
    prompt = native(
        config, prompt="the cat jumps", seed=2**64 - 1, scheduler="euler", **RECIPE, size=(640, 640)
    )
    high, low = samplers(prompt)
    for sampler in (high, low):
        assert (sampler["noise_seed"], sampler["steps"], sampler["cfg"]) == (2**64 - 1, 4, 1.0)
        assert (sampler["sampler_name"], sampler["scheduler"]) == ("euler", "simple")
    # The high-noise expert adds the noise and hands on its latent with the noise left in.
    assert (high["add_noise"], high["start_at_step"], high["end_at_step"]) == ("enable", 0, 2)
    assert high["return_with_leftover_noise"] == "enable"
    assert (low["add_noise"], low["start_at_step"], low["end_at_step"]) == ("disable", 2, 4)
    assert low["return_with_leftover_noise"] == "disable"
    shifts = by_class(prompt, "ModelSamplingSD3")
    assert [s["inputs"]["shift"] for s in shifts.values()] == [5.0, 5.0]

    condition_id, condition = only(prompt, "WanImageToVideo")
    assert (condition["width"], condition["height"], condition["length"]) == (640, 640, 81)
    assert high["positive"] == [condition_id, 0] and high["negative"] == [condition_id, 1]
    assert high["latent_image"] == [condition_id, 2]
    texts = {prompt[condition[k][0]]["inputs"]["text"] for k in ("positive", "negative")}
    assert texts == {"the cat jumps", "blurry, static"}
    assert prompt[condition["positive"][0]]["inputs"]["text"] == "the cat jumps"
    assert prompt[condition["start_image"][0]]["inputs"]["image"] == "in/start.png"
    _, video = only(prompt, "CreateVideo")
    assert video["fps"] == 16.0
    _, save = only(prompt, "SaveVideo")
    assert (save["filename_prefix"], save["format"], save["codec"]) == (
        "wanbot/job-9",
        "mp4",
        "h264",
    )


def test_fast_puts_the_lora_pair_on_the_experts(config: Config) -> None:
    prompt = native(config, **RECIPE, scheduler="euler")
    high, low = samplers(prompt)
    chains = {}
    for sampler in (high, low):
        assert loaded_by(prompt, sampler["model"]) == [
            "ModelSamplingSD3",
            "LoraLoaderModelOnly",
            "UNETLoader",
        ]
        lora = prompt[prompt[sampler["model"][0]]["inputs"]["model"][0]]["inputs"]
        unet = prompt[lora["model"][0]]["inputs"]
        chains[unet["unet_name"]] = (lora["lora_name"], lora["strength_model"])
        assert unet["weight_dtype"] == "default"  # fp8-scaled files load as they are
    assert list(chains) == [MODELS.native_i2v_high, MODELS.native_i2v_low]
    assert chains == {
        MODELS.native_i2v_high: (MODELS.native_lora_high, 1.0),
        MODELS.native_i2v_low: (MODELS.native_lora_low, 1.0),
    }


def test_a_plain_fast_job_gets_the_default_recipe_on_native_nodes(config: Config) -> None:
    prompt = native(config, quality="fast")  # no other flag: `[fast]`'s defaults
    high, low = samplers(prompt)
    assert (high["start_at_step"], high["end_at_step"]) == (0, 2)
    assert (low["start_at_step"], low["end_at_step"]) == (2, 4)
    for sampler in (high, low):
        assert (sampler["steps"], sampler["cfg"]) == (4, 1.0)
        assert (sampler["sampler_name"], sampler["scheduler"]) == ("euler", "simple")
    shifts = by_class(prompt, "ModelSamplingSD3")
    assert [s["inputs"]["shift"] for s in shifts.values()] == [5.0, 5.0]
    strengths = [
        n["inputs"]["strength_model"] for n in by_class(prompt, "LoraLoaderModelOnly").values()
    ]
    assert strengths == [1.0, 1.0]


def test_standard_runs_the_bare_experts_split_at_half(config: Config) -> None:
    prompt = native(config, quality="standard", steps=20, cfg=3.5, scheduler="unipc")
    assert not by_class(prompt, "LoraLoaderModelOnly")
    high, low = samplers(prompt)
    assert loaded_by(prompt, high["model"]) == ["ModelSamplingSD3", "UNETLoader"]
    assert (high["end_at_step"], low["start_at_step"], low["end_at_step"]) == (10, 10, 20)
    assert (high["cfg"], high["sampler_name"], high["scheduler"]) == (3.5, "uni_pc_bh2", "simple")


def test_the_end_frame_goes_through_first_last_frame(config: Config) -> None:
    prompt = native(config, WITH_END, quality="fast")
    assert not by_class(prompt, "WanImageToVideo")
    _, condition = only(prompt, "WanFirstLastFrameToVideo")
    images = {k: prompt[condition[k][0]]["inputs"]["image"] for k in ("start_image", "end_image")}
    assert images == {"start_image": "in/start.png", "end_image": "in/end.png"}
    assert len(by_class(prompt, "LoadImage")) == 2


def test_the_host_hardware_picks_the_decoder_and_the_weight_cast(config: Config) -> None:
    small = Hardware(tiled_vae=True, quantization="fp8_e4m3fn")
    prompt = native(config, hardware=small, quality="standard")
    assert not by_class(prompt, "VAEDecode")
    _, tiled = only(prompt, "VAEDecodeTiled")
    assert tiled["tile_size"] == 256
    fp16 = MODELS.model_copy(
        update={"native_i2v_high": "wan2.2_i2v_high_noise_14B_fp16.safetensors"}
    )
    prompt = build_native_prompt(i2v(config), UPLOADED, fp16, small)
    dtypes = {
        n["inputs"]["unet_name"]: n["inputs"]["weight_dtype"]
        for n in by_class(prompt, "UNETLoader").values()
    }
    assert dtypes == {
        "wan2.2_i2v_high_noise_14B_fp16.safetensors": "fp8_e4m3fn",
        MODELS.native_i2v_low: "default",
    }


def test_every_wrapper_scheduler_maps_or_is_refused(config: Config) -> None:
    core = set(choices(full_object_info(), "KSamplerAdvanced", "sampler_name"))
    schedules = set(choices(full_object_info(), "KSamplerAdvanced", "scheduler"))
    for name in NATIVE_SCHEDULERS:
        assert name in SCHEDULERS
        sampler, schedule = ksampler_settings(name)
        assert sampler in core and schedule in schedules
    assert ksampler_settings("dpm++_sde") == ("dpmpp_2m_sde", "simple")
    with pytest.raises(ValueError, match=r"flowmatch_causvid.* no ComfyUI core counterpart"):
        native(config, scheduler="flowmatch_causvid")


def test_only_image_to_video_with_its_image(config: Config) -> None:
    with pytest.raises(ValueError, match="not infinitetalk"):
        build_native_prompt(make_request(Mode.INFINITETALK), UPLOADED, MODELS, Hardware())
    with pytest.raises(ValueError, match="needs uploaded image"):
        build_native_prompt(i2v(config), FileSet[str](image=""), MODELS, Hardware())


def test_a_host_with_the_files_lacks_nothing() -> None:
    for info in (BUNDLED, full_object_info()):
        for quality in ("fast", "standard"):
            for end_frame in (False, True):
                missing = missing_for_native(
                    serving(info), MODELS, Hardware(), quality=quality, end_frame=end_frame
                )
                assert missing == []


def test_an_old_comfyui_lacks_the_core_node() -> None:
    old = {k: v for k, v in serving(BUNDLED).items() if k != "WanFirstLastFrameToVideo"}
    assert missing_for_native(old, MODELS, Hardware()) == []
    assert missing_for_native(old, MODELS, Hardware(), end_frame=True) == [
        "node 60 (WanFirstLastFrameToVideo): the host's ComfyUI has no WanFirstLastFrameToVideo "
        "node; update ComfyUI"
    ]


def test_a_host_without_the_files_names_them() -> None:
    without_loras = serving(
        BUNDLED,
        MODELS.model_copy(
            update={"native_lora_high": "x.safetensors", "native_lora_low": "y.safetensors"}
        ),
    )
    assert missing_for_native(without_loras, MODELS, Hardware(), quality="standard") == []
    missing = missing_for_native(without_loras, MODELS, Hardware())
    assert len(missing) == 2
    for name, line in zip((MODELS.native_lora_high, MODELS.native_lora_low), missing, strict=True):
        assert line.startswith("node 5")
        assert f"model file '{name}' for LoraLoaderModelOnly.lora_name is not on the host" in line

    # The capture host has none of the native files: every loader says which.
    missing = " ".join(missing_for_native(BUNDLED, MODELS, Hardware(), quality="standard"))
    for name in (MODELS.native_i2v_high, MODELS.native_i2v_low, MODELS.native_vae):
        assert f"'{name}'" in missing
    assert f"'{MODELS.native_text_encoder}'" in missing


def test_a_host_can_name_its_own_native_files() -> None:
    config = parse_config(
        {
            "comfy": {
                "hosts": [
                    {
                        "name": "gpu",
                        "url": "http://127.0.0.1:8188",
                        "models": {
                            "native_i2v_high": "wan22/high_fp16.safetensors",
                            "native_lora_low_strength": 0.8,
                        },
                    }
                ]
            },
            "models": {"native_vae": "vae/wan21.safetensors"},
        }
    )
    models = config.comfy.hosts[0].resolved_models(config.models)
    assert (models.native_i2v_high, models.native_vae, models.native_lora_low_strength) == (
        "wan22/high_fp16.safetensors",
        "vae/wan21.safetensors",
        0.8,
    )
    assert models.native_i2v_low == MODELS.native_i2v_low
