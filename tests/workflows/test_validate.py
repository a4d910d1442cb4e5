from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.request import Mode
from tests.workflows import full_object_info
from workflows.builder import TEMPLATE_MODES, load_template
from workflows.schema import bundled_object_info, input_specs, names_input_file
from workflows.validate import (
    Problem,
    WorkflowInvalid,
    check_prompt,
    types_compatible,
    validate_prompt,
)


@pytest.fixture
def info() -> dict[str, Any]:
    return bundled_object_info()


@pytest.fixture
def i2v() -> dict[str, Any]:
    return load_template(Mode.I2V)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


@pytest.mark.parametrize("mode", TEMPLATE_MODES)
def test_templates_are_valid(mode: Mode, info: dict[str, Any]) -> None:
    assert validate_prompt(load_template(mode), info) == []


def test_unknown_class(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["12"]["class_type"] = "WanVideoDecodeTurbo"
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.class_type, problem.input_name) == (
        "12",
        "WanVideoDecodeTurbo",
        None,
    )
    assert problem.message == (
        "node class WanVideoDecodeTurbo is not installed on the host (custom node pack missing?)"
    )


def test_missing_required_input(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    del i2v["11"]["inputs"]["steps"]
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.input_name) == ("11", "steps")
    assert str(problem) == "node 11 (WanVideoSampler) input 'steps': required input is missing"


@pytest.mark.parametrize("widget", ["pix_fmt", "crf", "save_metadata", "trim_to_audio"])
def test_missing_format_widget_of_video_combine(
    widget: str, i2v: dict[str, Any], info: dict[str, Any]
) -> None:
    del i2v["13"]["inputs"][widget]
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.input_name) == ("13", widget)


def test_format_widgets_follow_the_chosen_format(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    # ProRes has a `profile` widget and none of the h264 ones.
    i2v["13"]["inputs"]["format"] = "video/ProRes"
    names = {p.input_name for p in validate_prompt(i2v, info)}
    assert names == {"profile", "pix_fmt", "crf", "save_metadata", "trim_to_audio"}


def test_unknown_input(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["11"]["inputs"]["sampler_name"] = "euler"
    problem = only(validate_prompt(i2v, info))
    assert problem.input_name == "sampler_name"
    assert "unknown input" in problem.message


def test_hidden_inputs_are_not_unknown(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["13"]["inputs"]["unique_id"] = "13"
    assert validate_prompt(i2v, info) == []


def test_bad_scheduler(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["11"]["inputs"]["scheduler"] = "res_2m"
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.input_name) == ("11", "scheduler")
    assert "'res_2m' is not allowed" in problem.message
    assert "unipc" in problem.message


@pytest.mark.parametrize(
    ("node", "name", "value", "text"),
    [
        ("11", "steps", 0, "below the minimum 1"),
        ("11", "seed", 2**64, "above the maximum 18446744073709551615"),
        ("11", "seed", -1, "below the minimum 0"),
        ("11", "cfg", 30.5, "above the maximum 30.0"),
        ("8", "blocks_to_swap", 49, "above the maximum 48"),
        ("11", "steps", "30", "expects an integer"),
        ("11", "steps", 30.0, "expects an integer"),
        ("11", "cfg", True, "expects a number"),
        ("11", "force_offload", 1, "expects true or false"),
        ("6", "positive_prompt", 5, "expects a string"),
    ],
)
def test_bad_widget_values(
    node: str, name: str, value: Any, text: str, i2v: dict[str, Any], info: dict[str, Any]
) -> None:
    i2v[node]["inputs"][name] = value
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.input_name) == (node, name)
    assert text in problem.message


def test_float_input_accepts_an_int(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["11"]["inputs"]["cfg"] = 6
    assert validate_prompt(i2v, info) == []


def test_dangling_link(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["12"]["inputs"]["samples"] = ["99", 0]
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.input_name) == ("12", "samples")
    assert "node 99" in problem.message


def test_link_to_missing_output_index(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["12"]["inputs"]["vae"] = ["7", 3]
    problem = only(validate_prompt(i2v, info))
    assert problem.input_name == "vae"
    assert "output 3 of node 7" in problem.message


def test_wrong_link_type(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["11"]["inputs"]["model"] = ["7", 0]
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.input_name) == ("11", "model")
    assert "expects WANVIDEOMODEL but is linked to WANVAE" in problem.message


def test_value_where_a_link_is_needed(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["12"]["inputs"]["vae"] = "Wan2_1_VAE_bf16.safetensors"
    problem = only(validate_prompt(i2v, info))
    assert "expects a link to a WANVAE output" in problem.message


def test_missing_model_file(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["9"]["inputs"]["model"] = "Wan2_2-I2V-A14B-HIGH.safetensors"
    problem = only(validate_prompt(i2v, info))
    assert (problem.node_id, problem.input_name) == ("9", "model")
    assert problem.message.startswith(
        "model file 'Wan2_2-I2V-A14B-HIGH.safetensors' for WanVideoModelLoader.model "
        "is not on the host; available: "
    )
    assert "Wan2_1-I2V-14B-480P_fp8_e4m3fn.safetensors" in problem.message


def test_missing_clip_vision_file(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    i2v["3"]["inputs"]["clip_name"] = "missing.safetensors"
    problem = only(validate_prompt(i2v, info))
    assert "model file 'missing.safetensors' for CLIPVisionLoader.clip_name" in problem.message


def test_file_combos_accept_any_name_without_an_upload_list(info: dict[str, Any]) -> None:
    prompt = load_template(Mode.ANIMATE)
    prompt["1"]["inputs"]["image"] = "wanbot/ref 1.png"
    prompt["20"]["inputs"]["video"] = "pose.mp4"
    assert validate_prompt(prompt, info) == []
    prompt["20"]["inputs"]["video"] = ""
    problem = only(validate_prompt(prompt, info))
    assert (problem.node_id, problem.input_name) == ("20", "video")


def test_file_combos_checked_against_uploaded_files(info: dict[str, Any]) -> None:
    prompt = load_template(Mode.INFINITETALK)
    prompt["1"]["inputs"]["image"] = "a.png"
    prompt["16"]["inputs"]["audio"] = "speech.wav"
    assert validate_prompt(prompt, info, uploaded_files={"a.png", "speech.wav"}) == []
    problem = only(validate_prompt(prompt, info, uploaded_files={"a.png"}))
    assert (problem.node_id, problem.class_type, problem.input_name) == ("16", "LoadAudio", "audio")
    assert "'speech.wav' was not uploaded" in problem.message
    # A name the host already lists (LoadImage's example.png) is fine too.
    prompt["1"]["inputs"]["image"] = "example.png"
    assert validate_prompt(prompt, info, uploaded_files={"speech.wav"}) == []


def test_no_output_node(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    del i2v["13"]
    problem = only(validate_prompt(i2v, info))
    assert problem.node_id == ""
    assert "no output node" in str(problem)


def test_check_prompt_raises_with_every_problem(i2v: dict[str, Any], info: dict[str, Any]) -> None:
    check_prompt(i2v, info)  # valid: no exception
    i2v["11"]["inputs"]["scheduler"] = "res_2m"
    i2v["11"]["inputs"]["steps"] = 0
    with pytest.raises(WorkflowInvalid) as caught:
        check_prompt(i2v, info)
    assert {p.input_name for p in caught.value.problems} == {"scheduler", "steps"}
    assert "res_2m" in str(caught.value)


@pytest.mark.parametrize(
    ("received", "expected", "ok"),
    [
        ("IMAGE", "IMAGE", True),
        ("IMAGE", "MASK", False),
        ("*", "MASK", True),
        ("IMAGE", "*", True),
        ("IMAGE", "IMAGE,MASK", True),
        ("LATENT,IMAGE", "MASK,IMAGE", True),
        ("LATENT", "IMAGE,MASK", False),
    ],
)
def test_types_compatible(received: str, expected: str, ok: bool) -> None:
    assert types_compatible(received, expected) is ok


SYNTHETIC: dict[str, Any] = {
    "Src": {"input": {"required": {}}, "output": ["IMAGE", "LATENT", "*"]},
    "Match": {
        "input": {
            "required": {
                "input": [
                    "COMFY_MATCHTYPE_V3",
                    {"template": {"template_id": "t", "allowed_types": "IMAGE,MASK"}},
                ]
            }
        },
        "output": ["COMFY_MATCHTYPE_V3"],
        "output_matchtypes": ["t"],
    },
    "Sink": {
        "input": {
            "required": {
                "image": ["IMAGE"],
                "mode": ["COMBO", {"options": ["fast", "slow"]}],
            },
            "optional": {"either": ["IMAGE,MASK"], "anything": ["*"]},
        },
        "output": [],
        "output_node": True,
    },
}


def sink(**inputs: Any) -> dict[str, Any]:
    return {
        "s": {"class_type": "Src", "inputs": {}},
        "m": {"class_type": "Match", "inputs": {"input": ["s", 0]}},
        "k": {"class_type": "Sink", "inputs": {"image": ["s", 0], "mode": "fast", **inputs}},
    }


def test_synthetic_graph_with_match_types_is_valid() -> None:
    prompt = sink(either=["m", 0], anything=["s", 1])
    prompt["k"]["inputs"]["image"] = ["m", 0]  # match type resolves to IMAGE via the link
    assert validate_prompt(prompt, SYNTHETIC) == []


def test_match_type_input_rejects_disallowed_type() -> None:
    prompt = sink()
    prompt["m"]["inputs"]["input"] = ["s", 1]
    problem = only(validate_prompt(prompt, SYNTHETIC))
    assert (problem.node_id, problem.input_name) == ("m", "input")
    assert "expects IMAGE,MASK but is linked to LATENT" in problem.message


def test_star_output_fits_anywhere_and_comma_input_rejects_others() -> None:
    assert validate_prompt(sink(image=["s", 2]), SYNTHETIC) == []
    problem = only(validate_prompt(sink(either=["s", 1]), SYNTHETIC))
    assert problem.input_name == "either"


def test_new_style_combo_values_are_checked() -> None:
    problem = only(validate_prompt(sink(mode="medium"), SYNTHETIC))
    assert problem.input_name == "mode"
    assert "choose one of: fast, slow" in problem.message


# Every loader input whose combo lists the host's input folder, in the real `/object_info`.
INPUT_FOLDER_LOADERS = [
    ("LoadImage", "image", "wanbot_b.png"),
    ("LoadImageMask", "image", "wanbot_b.png"),
    ("LoadAudio", "audio", "wanbot_b.wav"),
    ("LoadVideo", "file", "wanbot_b.mp4"),
    ("VHS_LoadVideo", "video", "wanbot_b.mp4"),
    ("VHS_LoadVideoFFmpeg", "video", "wanbot_b.mp4"),
    ("VHS_LoadAudioUpload", "audio", "wanbot_b.wav"),
    ("VHS_LoadImages", "directory", "wanbot_b"),
    ("LoadLatent", "latent", "wanbot_b.latent"),
]


def one_node(
    full: dict[str, Any], class_type: str, name: str, listed: list[str], value: str
) -> Callable[..., list[Problem]]:
    """The problems of `value` in the real class whose combo lists `listed`, given uploads."""
    info = {class_type: json.loads(json.dumps(full[class_type]))}
    spec = info[class_type]["input"]["required"][name]
    if spec[0] == "COMBO":
        spec[1]["options"] = listed
    else:
        spec[0] = listed
    prompt = {"1": {"class_type": class_type, "inputs": {name: value}}}

    def problems(uploaded: set[str] | None = None) -> list[Problem]:
        found = validate_prompt(prompt, info, uploaded_files=uploaded)
        return [p for p in found if p.input_name == name]

    return problems


@pytest.mark.parametrize(("class_type", "name", "value"), INPUT_FOLDER_LOADERS)
def test_loaders_accept_files_uploaded_after_the_schema_was_fetched(
    class_type: str, name: str, value: str
) -> None:
    """The list shows an earlier job's upload; this job's own file is not in it yet."""
    problems = one_node(full_object_info(), class_type, name, ["wanbot_a.mp4"], value)
    assert problems() == []
    uploaded = {value} if name != "directory" else {f"{value}/frame.png"}
    assert problems(uploaded) == []
    (problem,) = problems({"other.png"})
    assert f"file '{value}' was not uploaded" in problem.message


def test_every_input_folder_combo_of_the_real_schema_is_known() -> None:
    """Audit: core loaders are found by their upload flag, VideoHelperSuite's and LoadLatent by
    name."""
    found = set()
    for class_type, info in full_object_info().items():
        for name, spec in input_specs(info).items():
            if names_input_file(class_type, spec):
                found.add((class_type, name))
    expected = {(c, n) for c, n, _ in INPUT_FOLDER_LOADERS}
    assert expected <= found
    # The rest carry an upload flag for the input folder: 3D files and resized images.
    assert found - expected == {
        ("Load3D", "model_file"),
        ("Load3DAdvanced", "model_file"),
        ("LoadAndResizeImage", "image"),
    }


@pytest.mark.parametrize(
    ("class_type", "name"),
    [("WanVideoModelLoader", "model"), ("CheckpointLoaderSimple", "ckpt_name")],
)
def test_model_combos_are_checked_even_when_the_host_lists_none(class_type: str, name: str) -> None:
    problems = one_node(full_object_info(), class_type, name, [], "wan2.2_animate.safetensors")
    (problem,) = problems()
    assert "model file 'wan2.2_animate.safetensors'" in problem.message
    assert "is not on the host; available: (none)" in problem.message
