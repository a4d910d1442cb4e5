"""The fast preset: Wan2.2 I2V A14B's two experts with step-distill LoRAs, split schedules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.errors import ConfigError, ParameterError
from bot.request import InputFiles, JobRequest, Mode
from bot.resolve import resolve_again, resolve_params
from fakes.comfy_validation import with_models
from tests.factories import make_request
from tests.workflows import full_object_info
from workflows.builder import build_prompt, upstream_nodes
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.schema import bundled_object_info, choices
from workflows.validate import validate_prompt

MODELS = Models()
FAST_FILES = [MODELS.i2v_fast_high, MODELS.i2v_fast_low]
LORAS = sorted({MODELS.fast_lora_high, MODELS.fast_lora_low})
UPLOADED = FileSet[str](image="in/start.png")
BUNDLED = bundled_object_info()
SCHEDULERS = choices(BUNDLED, "WanVideoSampler", "scheduler")


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:8188"}]}})


def fast_request(config: Config, **overrides: Any) -> JobRequest:
    resolved = resolve_params(Mode.I2V, {"quality": "fast", **overrides}, config, SCHEDULERS)
    inputs = InputFiles(image=Path("start.png"))
    return make_request(Mode.I2V, params=resolved.params, prompt="a cat", inputs=inputs)


def by_class(prompt: dict[str, Any], class_type: str) -> dict[str, dict[str, Any]]:
    return {k: n for k, n in prompt.items() if n["class_type"] == class_type}


@pytest.mark.parametrize("schema", ["bundled", "full"])
def test_the_fast_graph_is_valid_on_a_host_with_the_files(schema: str, config: Config) -> None:
    info = BUNDLED if schema == "bundled" else full_object_info()
    prompt = build_prompt(fast_request(config), UPLOADED, MODELS, Hardware())
    problems = validate_prompt(
        prompt, with_models(info, FAST_FILES, LORAS), uploaded_files=UPLOADED.all()
    )
    assert [str(p) for p in problems] == []


def test_without_the_files_the_host_cannot_run_it(config: Config) -> None:
    prompt = build_prompt(fast_request(config), UPLOADED, MODELS, Hardware())
    problems = " ".join(map(str, validate_prompt(prompt, BUNDLED, uploaded_files=UPLOADED.all())))
    assert MODELS.i2v_fast_high in problems and MODELS.fast_lora_high in problems


def test_two_experts_each_with_its_lora_share_one_schedule(config: Config) -> None:
    prompt = build_prompt(fast_request(config), UPLOADED, MODELS, Hardware())
    loaders = by_class(prompt, "WanVideoModelLoader")
    samplers = by_class(prompt, "WanVideoSampler")
    assert sorted(n["inputs"]["model"] for n in loaders.values()) == sorted(FAST_FILES)
    high = next(k for k, n in loaders.items() if n["inputs"]["model"] == MODELS.i2v_fast_high)
    low = next(k for k, n in loaders.items() if n["inputs"]["model"] == MODELS.i2v_fast_low)
    # Pre-scaled fp8 files: the loader reads the scales from the weights.
    assert {n["inputs"]["quantization"] for n in loaders.values()} == {"disabled"}

    first = next(n["inputs"] for n in samplers.values() if n["inputs"]["model"] == [high, 0])
    second_id = next(k for k, n in samplers.items() if n["inputs"]["model"] == [low, 0])
    second = samplers[second_id]["inputs"]
    first_id = next(k for k, n in samplers.items() if n["inputs"] is first)
    assert second["samples"] == [first_id, 0]
    assert second["seed"] == first["seed"]
    (decoder,) = by_class(prompt, "WanVideoDecode").values()
    assert decoder["inputs"]["samples"] == [second_id, 0]
    assert not by_class(prompt, "WanVideoClipVisionEncode")
    assert upstream_nodes(prompt, "13") == set(prompt)  # nothing left dangling


def recipe_of(config: Config, **overrides: Any) -> dict[str, Any]:
    """What a fast job's graph runs with `config`: each expert's LoRA and strength, the
    experts' step ranges, and the sampler settings they share."""
    models = config.host(None).resolved_models(config.models)
    prompt = build_prompt(fast_request(config, **overrides), UPLOADED, models, Hardware())
    loaders = by_class(prompt, "WanVideoModelLoader")
    loras = by_class(prompt, "WanVideoLoraSelect")
    samplers = list(by_class(prompt, "WanVideoSampler").values())
    shared = {(s["inputs"]["steps"], s["inputs"]["cfg"], s["inputs"]["shift"]) for s in samplers}
    (steps, cfg, shift), *rest = shared
    assert not rest
    expert = {models.i2v_fast_high: "high", models.i2v_fast_low: "low"}
    return {
        "loras": {
            expert[n["inputs"]["model"]]: (
                loras[n["inputs"]["lora"][0]]["inputs"]["lora"],
                loras[n["inputs"]["lora"][0]]["inputs"]["strength"],
            )
            for n in loaders.values()
        },
        "ranges": sorted((s["inputs"]["start_step"], s["inputs"]["end_step"]) for s in samplers),
        "steps": steps,
        "cfg": cfg,
        "shift": shift,
        "schedulers": {s["inputs"]["scheduler"] for s in samplers},
    }


def with_fast(config: Config, fast: dict[str, Any], **more: Any) -> Config:
    return parse_config({"comfy": config.comfy.model_dump(), "fast": fast, **more})


WAN22_LIGHTX2V = {
    "loras": {
        "high": ("Wan2.2-Lightning_I2V-A14B-4steps-lora_HIGH_fp16.safetensors", 1.0),
        "low": ("Wan2.2-Lightning_I2V-A14B-4steps-lora_LOW_fp16.safetensors", 1.0),
    },
    "ranges": [(0, 2), (2, -1)],
    "steps": 4,
    "cfg": 1.0,
    "shift": 5.0,
    "schedulers": {"euler"},
}
WAN21_LORA = "lightx2v_I2V_14B_480p_cfg_step_distill_rank64_bf16.safetensors"
WAN21_LIGHTX2V = {
    "loras": {"high": (WAN21_LORA, 3.0), "low": (WAN21_LORA, 1.0)},
    "ranges": [(0, 3), (3, -1)],
    "steps": 6,
    "cfg": 1.0,
    "shift": 8.0,
    "schedulers": {"dpm++_sde"},
}


def test_the_default_recipe_is_lightx2vs_wan22_four_step_pair(config: Config) -> None:
    assert recipe_of(config) == WAN22_LIGHTX2V
    assert recipe_of(with_fast(config, {"recipe": "wan22-lightx2v"})) == WAN22_LIGHTX2V


def test_one_line_selects_the_wan21_recipe_and_explicit_keys_still_win(config: Config) -> None:
    assert recipe_of(with_fast(config, {"recipe": "wan21-lightx2v"})) == WAN21_LIGHTX2V
    tuned = with_fast(
        config,
        {"recipe": "wan21-lightx2v", "steps": 8, "scheduler": "euler"},
        models={"fast_lora_low_strength": 0.5},
    )
    assert recipe_of(tuned) == {
        **WAN21_LIGHTX2V,
        "loras": {"high": (WAN21_LORA, 3.0), "low": (WAN21_LORA, 0.5)},
        "ranges": [(0, 3), (3, -1)],
        "steps": 8,
        "schedulers": {"euler"},
    }
    # A host's own model names win over the recipe's, as over `[models]`.
    hosts = [{**config.comfy.hosts[0].model_dump(), "models": {"fast_lora_high": "mine.st"}}]
    per_host = parse_config({"comfy": {"hosts": hosts}, "fast": {"recipe": "wan21-lightx2v"}})
    assert recipe_of(per_host)["loras"] == {"high": ("mine.st", 3.0), "low": (WAN21_LORA, 1.0)}
    # The user's flags win over all of them.
    flags = recipe_of(config, steps=6, shift=7.0)
    assert (flags["ranges"], flags["shift"]) == ([(0, 3), (3, -1)], 7.0)


def test_an_unknown_recipe_is_one_clear_config_error(config: Config) -> None:
    with pytest.raises(ConfigError) as caught:
        with_fast(config, {"recipe": "wan3-turbo"})
    lines = str(caught.value).splitlines()
    assert len(lines) == 2 and "fast.recipe" in lines[1] and "'wan3-turbo'" in lines[1]
    assert "'wan22-lightx2v' or 'wan21-lightx2v'" in lines[1]


def test_the_split_follows_the_steps_and_must_leave_each_expert_a_step(config: Config) -> None:
    assert fast_request(config, steps=8).params.split == 4
    assert fast_request(config, steps=8, split=6).params.split == 6
    for bad in ({"steps": 8, "split": 8}, {"steps": 1}):
        with pytest.raises(ParameterError):
            fast_request(config, **bad)
    with pytest.raises(ParameterError, match="--split applies to --quality fast only"):
        resolve_params(Mode.I2V, {"split": 3}, config, SCHEDULERS)  # not ignored unsaid
    standard = resolve_params(Mode.I2V, {}, config, SCHEDULERS)
    assert standard.params.split == 0 and standard.params.steps == 30


def test_the_configured_preset_and_a_reroll_at_another_quality(config: Config) -> None:
    tuned = parse_config(
        {
            "comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:8188"}]},
            "defaults": {"i2v": {"quality": "fast", "steps": 20}},
            "fast": {"steps": 6, "split": 2, "scheduler": "dpm++"},
        }
    )
    params = resolve_params(Mode.I2V, {}, tuned, SCHEDULERS).params
    assert (params.quality, params.steps, params.split, params.scheduler) == (
        "fast",
        6,
        2,
        "dpm++",
    )
    fast = fast_request(config)
    again = resolve_again(fast, {"quality": "standard"}, config, SCHEDULERS).params
    assert (again.quality, again.steps, again.cfg, again.split) == ("standard", 30, 6.0, 0)
    assert again.seed == fast.params.seed
    with pytest.raises(ConfigError, match=r"'fast'.*split \(4\) must be below steps"):
        parse_config({"comfy": config.comfy.model_dump(), "fast": {"steps": 4, "split": 4}})
