"""A long video's clip: the fast graph with SVI 2.0 Pro's embeds, LoRAs and latent hand-off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.request import InputFiles, JobRequest, Mode
from bot.resolve import resolve_params
from fakes.comfy_validation import with_models
from tests.factories import make_request
from tests.workflows import full_object_info
from workflows.builder import upstream_nodes
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.schema import bundled_object_info, choices
from workflows.svi import OVERLAP_FRAMES, build_svi_clip, clip_seed, missing_for_svi
from workflows.validate import validate_prompt

MODELS = Models()
FAST_FILES = [MODELS.i2v_fast_high, MODELS.i2v_fast_low]
FAST_LORAS = [MODELS.fast_lora_high, MODELS.fast_lora_low]
SVI_LORAS = [MODELS.svi_lora_high, MODELS.svi_lora_low]
UPLOADED = FileSet[str](image="in/start.png")
LATENT = "wanbot_0123abcd.latent"
BUNDLED = bundled_object_info()
SCHEDULERS = choices(BUNDLED, "WanVideoSampler", "scheduler")


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:8188"}]}})


def clip_request(config: Config, prompt: str = "a cat", **overrides: Any) -> JobRequest:
    resolved = resolve_params(Mode.I2V, {"quality": "fast", **overrides}, config, SCHEDULERS)
    inputs = InputFiles(image=Path("start.png"))
    return make_request(Mode.I2V, params=resolved.params, prompt=prompt, inputs=inputs)


def clip(config: Config, index: int, **overrides: Any) -> dict[str, Any]:
    return build_svi_clip(
        clip_request(config, **overrides),
        UPLOADED,
        MODELS,
        Hardware(),
        clip_index=index,
        previous_latent=None if index == 0 else LATENT,
        filename_prefix="wanbot/job-7",
    )


def by_class(prompt: dict[str, Any], class_type: str) -> dict[str, dict[str, Any]]:
    return {k: n for k, n in prompt.items() if n["class_type"] == class_type}


def only(prompt: dict[str, Any], class_type: str) -> tuple[str, dict[str, Any]]:
    (found,) = by_class(prompt, class_type).items()
    return found[0], found[1]["inputs"]


@pytest.mark.parametrize("index", [0, 3])
@pytest.mark.parametrize("schema", ["bundled", "full"])
def test_clip_graphs_are_valid_on_a_host_with_the_files(
    schema: str, index: int, config: Config
) -> None:
    info = BUNDLED if schema == "bundled" else full_object_info()
    served = with_models(info, FAST_FILES, FAST_LORAS + SVI_LORAS)
    prompt = clip(config, index)
    problems = validate_prompt(prompt, served, uploaded_files=[*UPLOADED.all(), LATENT])
    assert [str(p) for p in problems] == []
    assert upstream_nodes(prompt, "13") | upstream_nodes(prompt, "43") == set(prompt)


def test_the_clip_samples_its_own_seed_with_its_prompt(config: Config) -> None:
    prompt = clip(config, 2, prompt="the cat jumps", seed=41)
    samplers = by_class(prompt, "WanVideoSampler")
    assert len(samplers) == 2
    assert {n["inputs"]["seed"] for n in samplers.values()} == {43}
    _, text = only(prompt, "WanVideoTextEncode")
    assert text["positive_prompt"] == "the cat jumps"
    assert clip_seed(41, 0) == 41
    assert clip_seed(2**64 - 1, 1) == 0  # wraps inside the sampler's range


def test_only_later_clips_continue_a_previous_latent(config: Config) -> None:
    first, later = clip(config, 0), clip(config, 1)
    assert not by_class(first, "LoadLatent") and not by_class(first, "WanVideoImageToVideoEncode")
    embeds_id, embeds = only(first, "WanVideoSVIProEmbeds")
    assert "prev_samples" not in embeds
    assert (embeds["num_frames"], embeds["motion_latent_count"]) == (81, 1)

    load_id, load = only(later, "LoadLatent")
    assert load["latent"] == LATENT
    _, continued = only(later, "WanVideoSVIProEmbeds")
    assert continued["prev_samples"] == [load_id, 0]
    for prompt in (first, later):
        # The anchor: the start image, resized, encoded alone; both samplers read the embeds.
        anchor_id, anchor = only(prompt, "WanVideoEncode")
        assert prompt[embeds_id]["inputs"]["anchor_samples"] == [anchor_id, 0]
        resized = prompt[anchor["image"][0]]
        assert prompt[resized["inputs"]["image"][0]]["inputs"]["image"] == UPLOADED.image
        for sampler in by_class(prompt, "WanVideoSampler").values():
            assert sampler["inputs"]["image_embeds"] == [embeds_id, 0]


def test_each_expert_gets_its_svi_lora_after_the_step_distill_one(config: Config) -> None:
    prompt = clip(config, 1)
    loras = by_class(prompt, "WanVideoLoraSelect")
    chains = {}
    for loader in by_class(prompt, "WanVideoModelLoader").values():
        svi = loras[loader["inputs"]["lora"][0]]["inputs"]
        distill = loras[svi["prev_lora"][0]]["inputs"]
        chains[loader["inputs"]["model"]] = (svi["lora"], svi["strength"], distill["lora"])
    assert chains == {
        MODELS.i2v_fast_high: (MODELS.svi_lora_high, 1.0, MODELS.fast_lora_high),
        MODELS.i2v_fast_low: (MODELS.svi_lora_low, 1.0, MODELS.fast_lora_low),
    }


def test_the_clip_saves_its_last_latent_beside_its_video(config: Config) -> None:
    prompt = clip(config, 0)
    save_id, save = only(prompt, "SaveLatent")
    assert save_id == "43" and save["filename_prefix"] == "wanbot/job-7_motion"
    cut = prompt[save["samples"][0]]
    assert cut["class_type"] == "LatentCut"
    assert (cut["inputs"]["dim"], cut["inputs"]["index"], cut["inputs"]["amount"]) == ("t", -1, 1)
    # The latents the decoder turns into the clip's frames: the low-noise expert's.
    _, decoder = only(prompt, "WanVideoDecode")
    assert cut["inputs"]["samples"] == decoder["samples"]
    assert prompt["13"]["inputs"]["filename_prefix"] == "wanbot/job-7"
    assert OVERLAP_FRAMES == 5


def test_a_latent_must_be_uploaded_when_uploads_are_known(config: Config) -> None:
    served = with_models(BUNDLED, FAST_FILES, FAST_LORAS + SVI_LORAS)
    problems = validate_prompt(clip(config, 1), served, uploaded_files=UPLOADED.all())
    assert [str(p) for p in problems] == [
        f"node 41 (LoadLatent) input 'latent': file '{LATENT}' was not uploaded to the host; "
        "uploaded: in/start.png"
    ]


def test_a_host_without_the_node_or_the_lora_cannot_make_clips() -> None:
    served = with_models(BUNDLED, FAST_FILES, FAST_LORAS + SVI_LORAS)
    assert missing_for_svi(served, MODELS, Hardware()) == []

    old_wrapper = {k: v for k, v in served.items() if k != "WanVideoSVIProEmbeds"}
    assert missing_for_svi(old_wrapper, MODELS, Hardware()) == [
        "node 10 (WanVideoSVIProEmbeds): node class WanVideoSVIProEmbeds is not installed on "
        "the host (custom node pack missing?)"
    ]
    no_svi = with_models(BUNDLED, FAST_FILES, FAST_LORAS)
    missing = missing_for_svi(no_svi, MODELS, Hardware())
    assert len(missing) == 2
    for name, problem in zip(SVI_LORAS, missing, strict=True):
        assert f"model file '{name}' for WanVideoLoraSelect.lora is not on the host" in problem


def test_a_host_can_name_its_own_svi_loras() -> None:
    config = parse_config(
        {
            "comfy": {
                "hosts": [
                    {
                        "name": "gpu",
                        "url": "http://127.0.0.1:8188",
                        "models": {"svi_lora_high": "svi/high.safetensors"},
                    }
                ]
            },
            "models": {"svi_lora_low": "svi/low.safetensors"},
        }
    )
    models = config.comfy.hosts[0].resolved_models(config.models)
    assert (models.svi_lora_high, models.svi_lora_low) == (
        "svi/high.safetensors",
        "svi/low.safetensors",
    )


@pytest.mark.parametrize(
    ("index", "latent", "uploaded", "overrides", "message"),
    [
        (0, LATENT, UPLOADED, {}, "only clip 0"),
        (2, None, UPLOADED, {}, "only clip 0"),
        (-1, LATENT, UPLOADED, {}, "0 or more"),
        (0, None, FileSet[str](image="a.png", end="b.png"), {}, "no end image"),
        (0, None, UPLOADED, {"quality": "standard"}, "fast preset"),
    ],
)
def test_a_clip_cannot_be_made_of_a_wrong_request(
    config: Config,
    index: int,
    latent: str | None,
    uploaded: FileSet[str],
    overrides: dict[str, Any],
    message: str,
) -> None:
    resolved = resolve_params(Mode.I2V, overrides or {"quality": "fast"}, config, SCHEDULERS)
    request = make_request(Mode.I2V, params=resolved.params)
    with pytest.raises(ValueError, match=message):
        build_svi_clip(
            request, uploaded, MODELS, Hardware(), clip_index=index, previous_latent=latent
        )


def test_a_video_made_another_way_is_continued_from_its_last_frames(config: Config) -> None:
    """Extend of a one-clip video: its last frames, loaded at the clip's size and encoded,
    give the motion latent; nothing is loaded from a latent file."""
    request = clip_request(config, size=(832, 480))
    prompt = build_svi_clip(
        request, UPLOADED, MODELS, Hardware(), clip_index=1, previous_latent=None,
        previous_frames="wanbot_tail.mp4",
    )  # fmt: skip
    served = with_models(BUNDLED, FAST_FILES, FAST_LORAS + SVI_LORAS)
    on_host = {"in/start.png", "wanbot_tail.mp4"}
    assert validate_prompt(prompt, served, uploaded_files=on_host) == []
    assert by_class(prompt, "LoadLatent") == {}
    _, video = only(prompt, "VHS_LoadVideo")
    assert video["video"] == "wanbot_tail.mp4"
    assert (video["custom_width"], video["custom_height"]) == (832, 480)
    _, embeds = only(prompt, "WanVideoSVIProEmbeds")
    cut = prompt[embeds["prev_samples"][0]]
    assert cut["class_type"] == "LatentCut" and cut["inputs"]["index"] == -1
    assert prompt[cut["inputs"]["samples"][0]]["class_type"] == "WanVideoEncode"
    with pytest.raises(ValueError, match="not both"):
        build_svi_clip(
            request, UPLOADED, MODELS, Hardware(), clip_index=1, previous_latent=LATENT,
            previous_frames="wanbot_tail.mp4",
        )  # fmt: skip
