"""InfiniteTalk and Animate on ComfyUI's own nodes: the window plan, the chained graphs, what a
host lacks for them, and the autogrow inputs those graphs use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.request import InputFiles, JobRequest, Mode
from bot.resolve import resolve_params
from fakes.comfy_schemas import native_i2v_schema, native_schema
from fakes.comfy_validation import validate_prompt as fake_validate
from tests.workflows import full_object_info
from workflows.builder import upstream_nodes
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.native import OUTPUT
from workflows.native_animate import build_native_animate_prompt, missing_for_native_animate
from workflows.native_talk import build_native_talk_prompt, missing_for_native_talk
from workflows.native_windows import covered, plan_windows, round_up_4n1
from workflows.schema import bundled_object_info, choices
from workflows.validate import validate_prompt

MODELS = Models()
NATIVE = native_schema()
SCHEDULERS = choices(bundled_object_info(), "WanVideoSampler", "scheduler")
TALK_FILES = FileSet[str](image="in/face.png", audio="in/speech.wav")
POSE_FILES = FileSet[str](image="in/ref.png", pose=["in/pose.mp4"])
ALL_POSE_FILES = FileSet[str](
    image="in/ref.png", pose=["in/pose.mp4"], face=["in/face.mp4"], background="in/bg.png"
)


@pytest.fixture(scope="module")
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "gpu", "url": "http://127.0.0.1:8188"}]}})


def request(config: Config, mode: Mode, frames: int, **overrides: Any) -> JobRequest:
    """A resolved request whose length was set from its audio or pose clip (`bot.intake`)."""
    resolved = resolve_params(mode, overrides, config, SCHEDULERS)
    resolved.params.frames = frames
    return JobRequest(
        mode=mode,
        prompt="someone",
        negative_prompt=resolved.negative_prompt,
        params=resolved.params,
        inputs=InputFiles(image=Path("x.png")),
    )


def of_class(prompt: dict[str, Any], class_type: str) -> list[str]:
    return sorted((i for i, n in prompt.items() if n["class_type"] == class_type), key=int)


def frames_made(prompt: dict[str, Any], window_class: str) -> int:
    """The frames the graph hands to CreateVideo, from its nodes' own numbers: the first
    window's length, each later window's kept frames, the final cut."""
    windows = of_class(prompt, window_class)
    made = prompt[windows[0]]["inputs"]["length"]
    made += sum(
        prompt[i]["inputs"]["length"]
        for i in of_class(prompt, "ImageFromBatch")
        if i != "65"  # the final cut
    )
    if "65" in prompt:
        made = min(made, prompt["65"]["inputs"]["length"])
    return int(made)


@pytest.mark.parametrize(
    ("frames", "window", "overlap"),
    [(81, 81, 9), (17, 81, 9), (201, 81, 9), (173, 77, 4), (9, 5, 1), (1001, 77, 5), (82, 81, 9)],
)
def test_the_windows_cover_the_frames_with_wans_lengths(
    frames: int, window: int, overlap: int
) -> None:
    lengths = plan_windows(frames, window, overlap)
    assert all(length <= window and (length - 1) % 4 == 0 for length in lengths)
    assert all(length > overlap for length in lengths[1:])
    assert frames <= covered(lengths, overlap) <= frames + 3
    # No window more than needed: one less would not cover the frames.
    assert covered(lengths[:-1], overlap) < frames or len(lengths) == 1


def test_a_window_must_add_frames() -> None:
    with pytest.raises(ValueError, match="cannot repeat"):
        plan_windows(81, 9, 9)
    assert [round_up_4n1(n) for n in (1, 2, 5, 6, 80, 81)] == [1, 5, 5, 9, 81, 81]


def test_a_long_audio_is_a_chain_of_talk_windows(config: Config) -> None:
    talk = request(config, Mode.INFINITETALK, 201, frame_window=81, motion_frame=9)
    prompt = build_native_talk_prompt(talk, TALK_FILES, MODELS, Hardware())
    windows = of_class(prompt, "WanInfiniteTalkToVideo")
    assert [prompt[w]["inputs"]["length"] for w in windows] == [81, 81, 57]
    first, second, third = (prompt[w]["inputs"] for w in windows)
    assert "previous_frames" not in first
    # Each later window continues from every frame made so far (its audio slice starts there).
    assert second["previous_frames"] == ["103", 0]  # the first window's decoded frames
    assert third["previous_frames"] == ["115", 0]  # the first two, batched
    assert all(w["motion_frame_count"] == 9 and w["mode"] == "single_speaker" for w in (first,))
    assert frames_made(prompt, "WanInfiniteTalkToVideo") == 201
    video = prompt["64"]["inputs"]
    assert video["audio"] == ["16", 0] and video["fps"] == 25.0
    assert prompt["16"]["inputs"]["audio"] == "in/speech.wav"
    assert upstream_nodes(prompt, OUTPUT) == set(prompt)  # nothing left dangling
    assert validate_prompt(prompt, NATIVE) == []


def test_a_short_audio_is_one_window_cut_to_its_length(config: Config) -> None:
    talk = request(config, Mode.INFINITETALK, 33, frame_window=77, motion_frame=40)
    prompt = build_native_talk_prompt(talk, TALK_FILES, MODELS, Hardware(tiled_vae=True))
    (window,) = of_class(prompt, "WanInfiniteTalkToVideo")
    assert prompt[window]["inputs"]["length"] == 33
    assert prompt[window]["inputs"]["motion_frame_count"] == 33  # the node's maximum
    assert "BatchImagesNode" not in {n["class_type"] for n in prompt.values()}
    assert prompt["103"]["class_type"] == "VAEDecodeTiled"
    assert validate_prompt(prompt, NATIVE) == []


def test_a_long_pose_clip_is_a_chain_of_animate_windows(config: Config) -> None:
    animate = request(config, Mode.ANIMATE, 189, frame_window=77)
    prompt = build_native_animate_prompt(animate, ALL_POSE_FILES, MODELS, Hardware())
    windows = of_class(prompt, "WanAnimateToVideo")
    assert len(windows) == 3
    first, second, third = (prompt[w]["inputs"] for w in windows)
    assert first["video_frame_offset"] == 0 and "continue_motion" not in first
    # Each later window reads the clips where the previous one stopped.
    assert second["video_frame_offset"] == [windows[0], 5]
    assert third["video_frame_offset"] == [windows[1], 5]
    assert second["continue_motion"] == ["103", 0] and third["continue_motion"] == ["115", 0]
    for inputs in (first, second, third):
        assert inputs["pose_video"] == ["21", 0] and inputs["face_video"] == ["27", 0]
        assert inputs["background_video"] == ["23", 0]
        assert inputs["reference_image"] == ["1", 0]
    assert prompt["20"]["inputs"]["file"] == "in/pose.mp4"
    assert prompt["26"]["inputs"]["file"] == "in/face.mp4"
    assert prompt["23"]["inputs"]["amount"] == 189  # the background, as long as the video
    # The reference image's latent comes off before each decode.
    assert prompt["102"]["inputs"]["trim_amount"] == [windows[0], 3]
    assert frames_made(prompt, "WanAnimateToVideo") == 189
    assert "audio" not in prompt["64"]["inputs"]
    assert validate_prompt(prompt, NATIVE) == []


def test_animate_without_face_or_background_and_short_windows(config: Config) -> None:
    animate = request(config, Mode.ANIMATE, 9, frame_window=5)
    prompt = build_native_animate_prompt(animate, POSE_FILES, MODELS, Hardware())
    assert not {"22", "23", "26", "27"} & set(prompt)
    windows = of_class(prompt, "WanAnimateToVideo")
    # A window of 5 continues from 1 frame (the node's other choice below 5).
    assert [prompt[w]["inputs"]["continue_motion_max_frames"] for w in windows] == [1, 1]
    assert frames_made(prompt, "WanAnimateToVideo") == 9
    assert validate_prompt(prompt, NATIVE) == []


@pytest.mark.parametrize("mode", [Mode.INFINITETALK, Mode.ANIMATE])
def test_the_real_full_schema_accepts_the_chains(config: Config, mode: Mode) -> None:
    full = full_object_info()
    built = request(config, mode, 201, frame_window=77)
    if mode is Mode.INFINITETALK:
        prompt = build_native_talk_prompt(built, TALK_FILES, MODELS, Hardware())
    else:
        prompt = build_native_animate_prompt(built, ALL_POSE_FILES, MODELS, Hardware())
    problems = validate_prompt(prompt, full)
    # The capture host has other model files; every other input and link fits.
    assert problems and all(p.class_type.endswith("Loader") for p in problems)


def test_each_builder_makes_its_mode_only(config: Config) -> None:
    i2v = request(config, Mode.I2V, 81)
    with pytest.raises(ValueError, match="infinitetalk, not i2v"):
        build_native_talk_prompt(i2v, TALK_FILES, MODELS, Hardware())
    with pytest.raises(ValueError, match="animate, not i2v"):
        build_native_animate_prompt(i2v, POSE_FILES, MODELS, Hardware())
    with pytest.raises(ValueError, match="needs uploaded image, audio"):
        build_native_talk_prompt(
            request(config, Mode.INFINITETALK, 81), POSE_FILES, MODELS, Hardware()
        )


def test_what_a_host_lacks_per_mode() -> None:
    assert missing_for_native_talk(NATIVE, MODELS, Hardware()) == []
    assert missing_for_native_animate(NATIVE, MODELS, Hardware()) == []
    talk = missing_for_native_talk(native_i2v_schema(), MODELS, Hardware())
    animate = missing_for_native_animate(native_i2v_schema(), MODELS, Hardware())
    assert any(MODELS.native_talk_patch in line for line in talk)
    assert any(MODELS.native_talk_model in line for line in talk)
    assert len(animate) == 1 and MODELS.native_animate in animate[0]


def test_an_old_comfyui_is_told_each_absent_node_once() -> None:
    old = {k: v for k, v in NATIVE.items() if k not in ("WanInfiniteTalkToVideo", "KSampler")}
    lines = missing_for_native_talk(old, MODELS, Hardware())
    assert lines == [
        "node 100 (WanInfiniteTalkToVideo): the host's ComfyUI has no WanInfiniteTalkToVideo "
        "node; update ComfyUI",
        "node 101 (KSampler): the host's ComfyUI has no KSampler node; update ComfyUI",
    ]


def test_autogrow_inputs_are_checked_as_comfyui_does(config: Config) -> None:
    talk = request(config, Mode.INFINITETALK, 161, frame_window=81)
    prompt = build_native_talk_prompt(talk, TALK_FILES, MODELS, Hardware())
    uploaded = {"in/face.png", "in/speech.wav"}
    assert fake_validate(prompt, NATIVE, uploaded).ok
    batch = prompt["115"]["inputs"]
    batch["images.other"] = batch.pop("images.image0")
    problems = [str(p) for p in validate_prompt(prompt, NATIVE)]
    assert "node 115 (BatchImagesNode) input 'images.image0': required input is missing" in (
        problems
    )
    assert any("'images.other': unknown input" in p for p in problems)
    verdict = fake_validate(prompt, NATIVE, uploaded)
    assert not verdict.ok
    assert verdict.node_errors["115"]["errors"][0]["type"] == "required_input_missing"
    batch["images.image0"] = ["16", 0]  # audio where frames belong
    assert any(
        "expects IMAGE but is linked to AUDIO" in str(p) for p in validate_prompt(prompt, NATIVE)
    )
