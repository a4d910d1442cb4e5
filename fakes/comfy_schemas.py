"""The /object_info of the kinds of host the tests need, from the bundled (real) schema: with
the fast preset's files, with the SVI LoRAs on top, or a ComfyUI without custom node packs that
has the files of Comfy-Org's templates for the native graphs (and of its Wan-Animate-2 one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fakes.comfy_validation import core_only, with_files, with_models
from workflows.hardware import Models
from workflows.schema import bundled_object_info

M = Models()


def fast_schema() -> dict[str, Any]:
    """A wrapper host with the fast preset's experts and step-distill LoRAs."""
    return with_models(
        bundled_object_info(),
        [M.i2v_fast_high, M.i2v_fast_low],
        [M.fast_lora_high, M.fast_lora_low],
    )


def svi_schema() -> dict[str, Any]:
    """A wrapper host that can make long videos: the fast preset plus the SVI 2.0 Pro LoRAs."""
    return with_models(
        bundled_object_info(),
        [M.i2v_fast_high, M.i2v_fast_low],
        [M.fast_lora_high, M.fast_lora_low, M.svi_lora_high, M.svi_lora_low],
    )


def native_i2v_schema() -> dict[str, Any]:
    """A ComfyUI without custom nodes, with the native image-to-video files only."""
    return with_files(
        core_only(bundled_object_info()),
        {
            ("UNETLoader", "unet_name"): [M.native_i2v_high, M.native_i2v_low],
            ("LoraLoaderModelOnly", "lora_name"): [M.native_lora_high, M.native_lora_low],
            ("CLIPLoader", "clip_name"): [M.native_text_encoder],
            ("VAELoader", "vae_name"): [M.native_vae],
        },
    )


def animate2_files(models: Models = M) -> dict[tuple[str, str], Iterable[str]]:
    """The files of Comfy-Org's Wan-Animate-2 package (text encoder as native i2v's), by the
    loader input that lists them."""
    return {
        ("UNETLoader", "unet_name"): [models.animate2],
        ("LoraLoaderModelOnly", "lora_name"): [models.animate2_lora],
        ("CLIPLoader", "clip_name"): [models.native_text_encoder],
        ("CLIPVisionLoader", "clip_name"): [models.animate2_clip_vision],
        ("VAELoader", "vae_name"): [models.animate2_vae],
    }


def animate2_schema(info: dict[str, Any] | None = None) -> dict[str, Any]:
    """`info` (default: a ComfyUI without custom nodes, as `native_schema`, with native i2v's
    files) as a host with the Wan-Animate-2 files serves it."""
    return with_files(native_schema() if info is None else info, animate2_files())


def native_schema() -> dict[str, Any]:
    """A ComfyUI without custom nodes, with the files of every native graph: image to video,
    InfiniteTalk and Animate."""
    return with_files(
        native_i2v_schema(),
        {
            ("UNETLoader", "unet_name"): [M.native_talk_model, M.native_animate],
            ("ModelPatchLoader", "name"): [M.native_talk_patch],
            ("AudioEncoderLoader", "audio_encoder_name"): [M.native_audio_encoder],
            ("CLIPVisionLoader", "clip_name"): [M.native_clip_vision],
        },
    )
