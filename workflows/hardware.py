"""What a ComfyUI host has, as values its loader nodes accept: hardware presets and model files.

`bot.config` reads these from `[models]` and `[[comfy.hosts]]`; `workflows.builder` binds them
into the loader nodes of a prompt.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.fast_recipes import DEFAULT_RECIPE, RECIPES

_FAST = RECIPES[DEFAULT_RECIPE]


class HardwarePreset(StrEnum):
    """Named hardware presets; `custom` means every value comes from `[comfy.hosts.hardware]`."""

    RTX4090 = "rtx4090"
    RTX3090 = "rtx3090"
    RTX3060 = "rtx3060"
    CUSTOM = "custom"


class Hardware(BaseModel):
    """Loader settings for one GPU host, as values `WanVideoModelLoader` and friends accept."""

    model_config = ConfigDict(extra="forbid")

    base_precision: Literal["fp32", "bf16", "fp16", "fp16_fast"] = "fp16"
    quantization: str = "fp8_e4m3fn"
    attention_mode: str = "sdpa"
    blocks_to_swap: int = Field(default=20, ge=0, le=40)
    tiled_vae: bool = False
    # Whether fast jobs larger than 480p (up to 1280x720) may run here: the two 14B experts
    # plus a 720p clip's activations need a 24 GB card (`bot.engine.hosts`, feature "fast_720p").
    fast_720p: bool = False


# The largest frame a fast job makes at 480p: 832x480 (399,360 pixels) either way round, and
# the 640x640 a square photo gets at about that pixel count (its sides rounded to 16).
FAST_480P_PIXELS = 640 * 640


def fast_needs_720p(width: int, height: int) -> bool:
    """Whether a fast job of this frame size needs a host whose preset allows 720p fast."""
    return width * height > FAST_480P_PIXELS


# 24 GB cards hold the fp8 14B model with a few blocks swapped; 12 GB cards need most of the
# transformer swapped to system RAM and a tiled VAE decode.
PRESETS: dict[HardwarePreset, Hardware] = {
    HardwarePreset.RTX4090: Hardware(
        base_precision="fp16",
        quantization="fp8_e4m3fn",
        attention_mode="sdpa",
        blocks_to_swap=10,
        tiled_vae=False,
        fast_720p=True,
    ),
    HardwarePreset.RTX3090: Hardware(
        base_precision="fp16",
        quantization="fp8_e4m3fn",
        attention_mode="sdpa",
        blocks_to_swap=20,
        tiled_vae=False,
        fast_720p=True,
    ),
    HardwarePreset.RTX3060: Hardware(
        base_precision="fp16",
        quantization="fp8_e4m3fn",
        attention_mode="sdpa",
        blocks_to_swap=40,
        tiled_vae=True,
        fast_720p=False,
    ),
}


class Models(BaseModel):
    """Model file names exactly as the host lists them in `/object_info`, and the strengths
    of the fast preset's step-distill LoRAs (they go with the LoRA files)."""

    model_config = ConfigDict(extra="forbid")

    i2v: str = "Wan2_1-I2V-14B-480P_fp8_e4m3fn.safetensors"
    infinitetalk: str = "Wan2_1-InfiniteTalk-Single_fp16.safetensors"
    animate: str = "wan2.2_animate_bf16_with_fp8_e4m3fn_scaled_ED.safetensors"
    t5: str = "wan2.1/umt5-xxl-enc-bf16.safetensors"
    vae: str = "wan2.1/Wan2_1_VAE_bf16.safetensors"
    clip_vision: str = "wan2.1/open-clip-xlm-roberta-large-vit-huge-14_visual_fp16.safetensors"
    wav2vec: str = "wav2vec2-chinese-base_fp16.safetensors"
    # The fast preset: Wan2.2 I2V A14B's high- and low-noise experts, each with lightx2v's
    # step-distill LoRA (in ComfyUI/models/loras): by default the `[fast] recipe`'s
    # (`workflows.fast_recipes`; `bot.config` fills them from the chosen recipe).
    i2v_fast_high: str = "Wan2_2-I2V-A14B-HIGH_fp8_e4m3fn_scaled_KJ.safetensors"
    i2v_fast_low: str = "Wan2_2-I2V-A14B-LOW_fp8_e4m3fn_scaled_KJ.safetensors"
    fast_lora_high: str = _FAST.lora_high
    fast_lora_low: str = _FAST.lora_low
    fast_lora_high_strength: float = _FAST.lora_high_strength
    fast_lora_low_strength: float = _FAST.lora_low_strength
    # Long image-to-video (a chain of clips, `workflows.svi`): Stable Video Infinity 2.0 Pro's
    # LoRAs for the fast preset's two experts, in Kijai's ComfyUI conversion (models/loras).
    svi_lora_high: str = "SVI_v2_PRO_Wan2.2-I2V-A14B_HIGH_lora_rank_128_fp16.safetensors"
    svi_lora_low: str = "SVI_v2_PRO_Wan2.2-I2V-A14B_LOW_lora_rank_128_fp16.safetensors"
    # Image to video on ComfyUI's own nodes (`workflows.native`), for hosts without the wrapper:
    # Comfy-Org's repackaged Wan2.2 I2V A14B experts (models/diffusion_models), UMT5 text encoder
    # (models/text_encoders) and VAE (models/vae), and lightx2v's Wan2.2 I2V 4-step LoRA pair
    # (models/loras) for the fast preset, at the strength its model card gives (1.0 each).
    native_i2v_high: str = "wan2.2_i2v_high_noise_14B_fp8_scaled.safetensors"
    native_i2v_low: str = "wan2.2_i2v_low_noise_14B_fp8_scaled.safetensors"
    native_text_encoder: str = "umt5_xxl_fp8_e4m3fn_scaled.safetensors"
    native_vae: str = "wan_2.1_vae.safetensors"
    native_lora_high: str = "wan2.2_i2v_lightx2v_4steps_lora_v1_high_noise.safetensors"
    native_lora_low: str = "wan2.2_i2v_lightx2v_4steps_lora_v1_low_noise.safetensors"
    native_lora_high_strength: float = 1.0
    native_lora_low_strength: float = 1.0
    # Wan-Animate-2 (`workflows.animate2`, ComfyUI's own nodes): Comfy-Org's repackaged model
    # (models/diffusion_models; its template's int8 file), lightx2v's Wan2.1 I2V step-distill
    # LoRA at 1.0 (models/loras; empty: none, for the distilled model
    # `wan_animate_2_distill_int8_convrot.safetensors`), CLIP vision (models/clip_vision) and the
    # VAE (models/vae) of the same package. The text encoder is `native_text_encoder`.
    animate2: str = "wan_animate_2_int8_convrot.safetensors"
    animate2_lora: str = "lightx2v_I2V_14B_480p_cfg_step_distill_rank64_bf16.safetensors"
    animate2_lora_strength: float = 1.0
    animate2_clip_vision: str = "clip_vision_h.safetensors"
    animate2_vae: str = "Wan2_1_VAE_bf16.safetensors"
    # Talking and animating on ComfyUI's own nodes (`workflows.native_talk`, `native_animate`),
    # as Comfy-Org's InfiniteTalk and Wan2.2 Animate templates load them: the Wan2.1 I2V 14B
    # model (models/diffusion_models) with the InfiniteTalk patch (models/model_patches) and
    # the wav2vec2 audio encoder (models/audio_encoders); Wan2.2 Animate 14B
    # (models/diffusion_models); CLIP vision H for both (models/clip_vision).
    native_talk_model: str = "Wan2_1-I2V-14B-480p_fp8_e4m3fn_scaled_KJ.safetensors"
    native_talk_patch: str = "wan2.1_infiniteTalk_single_fp16.safetensors"
    native_audio_encoder: str = "wav2vec2-chinese-base_fp16.safetensors"
    native_animate: str = "wan2.2_animate_14B_bf16.safetensors"
    native_clip_vision: str = "clip_vision_h.safetensors"
