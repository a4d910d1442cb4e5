"""The fast preset's named recipes: which step-distill LoRAs go on Wan2.2 I2V A14B's two experts
(on the wrapper backend), at what strengths, and the sampler settings they were made for.

`[fast] recipe` picks one; `bot.config` fills from it every `[fast]` and `[models] fast_lora_*`
key the config leaves out, so explicit keys (and per-host model overrides) still win.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

RecipeName = Literal["wan22-lightx2v", "wan21-lightx2v"]


@dataclass(frozen=True)
class FastRecipe:
    """One LoRA pair with the sampler settings it was distilled for."""

    lora_high: str
    lora_low: str
    lora_high_strength: float
    lora_low_strength: float
    steps: int
    split: int  # the step where the low-noise expert takes over
    cfg: float
    shift: float
    scheduler: str  # a WanVideoSampler scheduler name

    def model_values(self) -> dict[str, Any]:
        """The recipe's `[models]` keys."""
        return {
            "fast_lora_high": self.lora_high,
            "fast_lora_low": self.lora_low,
            "fast_lora_high_strength": self.lora_high_strength,
            "fast_lora_low_strength": self.lora_low_strength,
        }

    def sampler_values(self) -> dict[str, Any]:
        """The recipe's `[fast]` keys."""
        return {
            "steps": self.steps,
            "split": self.split,
            "cfg": self.cfg,
            "shift": self.shift,
            "scheduler": self.scheduler,
        }


RECIPES: dict[RecipeName, FastRecipe] = {
    # lightx2v's Wan2.2-Lightning I2V A14B 4-step pair (huggingface.co/lightx2v/Wan2.2-Lightning,
    # "Wan2.2-I2V-A14B-4steps-lora-rank64-Seko-V1"): 4 steps, shift 5, no CFG, the euler solver
    # it was distilled with, each LoRA at 1.0. The files are Kijai's fp16 conversion
    # (Kijai/WanVideo_comfy, LoRAs/Wan22-Lightning), as the wrapper's users load them.
    "wan22-lightx2v": FastRecipe(
        lora_high="Wan2.2-Lightning_I2V-A14B-4steps-lora_HIGH_fp16.safetensors",
        lora_low="Wan2.2-Lightning_I2V-A14B-4steps-lora_LOW_fp16.safetensors",
        lora_high_strength=1.0,
        lora_low_strength=1.0,
        steps=4,
        split=2,
        cfg=1.0,
        shift=5.0,
        scheduler="euler",
    ),
    # WanBot's recipe before 2026: lightx2v's Wan2.1 I2V 480p step-distill LoRA on both experts,
    # stronger on the high-noise one, over 6 steps with dpm++_sde.
    "wan21-lightx2v": FastRecipe(
        lora_high="lightx2v_I2V_14B_480p_cfg_step_distill_rank64_bf16.safetensors",
        lora_low="lightx2v_I2V_14B_480p_cfg_step_distill_rank64_bf16.safetensors",
        lora_high_strength=3.0,
        lora_low_strength=1.0,
        steps=6,
        split=3,
        cfg=1.0,
        shift=8.0,
        scheduler="dpm++_sde",
    ),
}
DEFAULT_RECIPE: RecipeName = "wan22-lightx2v"
