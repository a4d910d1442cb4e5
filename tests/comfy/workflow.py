"""Small API-format Wan I2V prompts built from real node classes, for tests."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

OBJECT_INFO = Path(os.environ.get("WANBOT_OBJECT_INFO", "/work/shared/comfy/object_info.json"))


@functools.cache
def _object_info_text() -> str:
    return OBJECT_INFO.read_text()


def object_info() -> dict[str, Any]:
    """A fresh copy of the captured `/object_info` (1075 classes)."""
    return json.loads(_object_info_text())  # type: ignore[no-any-return]


def i2v_prompt(
    image: str,
    *,
    audio: str | None = None,
    scheduler: str = "simple",
    save_video: bool = False,
    length: int = 33,
) -> dict[str, Any]:
    """Image → video with core Wan nodes, saved by VHS_VideoCombine (or core SaveVideo)."""
    prompt: dict[str, Any] = {
        "1": _node(
            "UNETLoader",
            unet_name="Wan2_1-I2V-14B-480P_fp8_e4m3fn.safetensors",
            weight_dtype="default",
        ),
        "2": _node("CLIPLoader", clip_name="wan2.1/umt5-xxl-enc-bf16.safetensors", type="wan"),
        "3": _node("VAELoader", vae_name="wan2.1/Wan2_1_VAE_bf16.safetensors"),
        "4": _node("CLIPTextEncode", text="a cat surfing", clip=["2", 0]),
        "5": _node("CLIPTextEncode", text="blurry", clip=["2", 0]),
        "6": _node("LoadImage", image=image),
        "7": _node(
            "WanImageToVideo",
            positive=["4", 0],
            negative=["5", 0],
            vae=["3", 0],
            width=832,
            height=480,
            length=length,
            batch_size=1,
            start_image=["6", 0],
        ),
        "8": _node(
            "KSampler",
            model=["1", 0],
            seed=7,
            steps=20,
            cfg=6.0,
            sampler_name="uni_pc",
            scheduler=scheduler,
            positive=["7", 0],
            negative=["7", 1],
            latent_image=["7", 2],
            denoise=1.0,
        ),
        "9": _node("VAEDecode", samples=["8", 0], vae=["3", 0]),
    }
    if save_video:
        prompt["10"] = _node("CreateVideo", images=["9", 0], fps=16.0)
        prompt["11"] = _node(
            "SaveVideo", video=["10", 0], filename_prefix="video/wanbot", format="auto"
        )
        if audio:
            prompt["12"] = _node("LoadAudio", audio=audio)
            prompt["10"]["inputs"]["audio"] = ["12", 0]
        return prompt
    prompt["10"] = _node(
        "VHS_VideoCombine",
        images=["9", 0],
        frame_rate=16,
        loop_count=0,
        filename_prefix="wanbot/i2v",
        format="video/h264-mp4",
        pingpong=False,
        save_output=True,
    )
    if audio:
        prompt["11"] = _node("LoadAudio", audio=audio)
        prompt["10"]["inputs"]["audio"] = ["11", 0]
    return prompt


def _node(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": class_type}}
