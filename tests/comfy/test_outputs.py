"""Picking the video out of a `/history` entry, and the fake's validation edge cases."""

from __future__ import annotations

import pytest

from comfy import OutputMissing, PromptRejected, pick_video
from fakes.comfy_validation import validate_prompt, with_input_folder
from tests.comfy.workflow import i2v_prompt, object_info


def _vhs(*names: str) -> dict[str, object]:
    gifs = [
        {
            "filename": name,
            "subfolder": "wanbot",
            "type": "output",
            "format": "video/h264-mp4",
            "frame_rate": 16.0,
            "workflow": name.replace(".mp4", ".png"),
            "fullpath": f"/comfy/output/wanbot/{name}",
        }
        for name in names
    ]
    return {"outputs": {"30": {"gifs": gifs}}}


def test_vhs_prefers_the_file_with_audio_whatever_the_order() -> None:
    for names in [("x_00001.mp4", "x_00001-audio.mp4"), ("x_00001-audio.mp4", "x_00001.mp4")]:
        picked = pick_video(_vhs(*names))
        assert picked.filename == "x_00001-audio.mp4"
        assert picked.has_audio
        assert picked.fullpath == "/comfy/output/wanbot/x_00001-audio.mp4"


def test_vhs_without_audio() -> None:
    picked = pick_video(_vhs("x_00001.mp4"))
    assert (picked.filename, picked.subfolder, picked.type) == ("x_00001.mp4", "wanbot", "output")
    assert not picked.has_audio


def test_core_save_video_shape() -> None:
    entry = {
        "outputs": {
            "9": {"images": [{"filename": "preview.png", "subfolder": "", "type": "temp"}]},
            "12": {
                "images": [{"filename": "wan_00003_.mp4", "subfolder": "video", "type": "output"}],
                "animated": [True],
            },
        }
    }
    picked = pick_video(entry)
    assert (picked.filename, picked.subfolder) == ("wan_00003_.mp4", "video")


@pytest.mark.parametrize(
    "entry",
    [
        {"outputs": {}},
        {},
        {"outputs": {"9": {"images": [{"filename": "a.png", "subfolder": "", "type": "output"}]}}},
        {"outputs": {"7": {"text": ["hello"]}}},
    ],
)
def test_no_video_is_output_missing(entry: dict[str, object]) -> None:
    with pytest.raises(OutputMissing):
        pick_video(entry)


def test_rejection_message_lists_every_problem() -> None:
    prompt = i2v_prompt("not-uploaded.png", scheduler="bogus")
    verdict = validate_prompt(prompt, object_info())
    assert verdict.error is not None

    message = str(PromptRejected(verdict.error, verdict.node_errors))

    # LoadImage checks its file itself (VALIDATE_INPUTS), as in ComfyUI.
    assert (
        "node 6 (LoadImage) input 'image': Custom validation failed for node: "
        "image - Invalid image file: not-uploaded.png"
    ) in message
    assert "node 8 (KSampler) input 'scheduler': Value not in list: scheduler: 'bogus'" in message


def test_link_type_mismatch_and_no_outputs() -> None:
    info = object_info()
    prompt = i2v_prompt("example.png")
    prompt["9"]["inputs"]["vae"] = ["1", 0]  # MODEL into a VAE input

    mismatch = validate_prompt(prompt, info)
    no_outputs = validate_prompt({"1": prompt["1"]}, info)

    assert mismatch.node_errors["9"]["errors"][0]["type"] == "return_type_mismatch"
    assert no_outputs.error is not None
    assert no_outputs.error["type"] == "prompt_no_outputs"


def test_load_latent_lists_top_level_latents_and_takes_any_uploaded_file() -> None:
    files = ["a.latent", "b.LATENT", "c.png", "wanbot/d.latent"]
    served = with_input_folder(object_info(), files)
    assert served["LoadLatent"]["input"]["required"]["latent"][0] == ["a.latent"]

    prompt = {
        "1": {"class_type": "LoadLatent", "inputs": {"latent": "wanbot/d.latent"}},
        "2": {"class_type": "SaveLatent", "inputs": {"samples": ["1", 0], "filename_prefix": "x"}},
    }
    # LoadLatent checks the file itself (VALIDATE_INPUTS), so ComfyUI skips the list check.
    assert validate_prompt(prompt, object_info(), files).ok
    prompt["1"]["inputs"]["latent"] = "gone.latent"
    verdict = validate_prompt(prompt, object_info(), files)
    (error,) = verdict.node_errors["1"]["errors"]
    assert error["details"] == "latent - Invalid latent file: gone.latent"
