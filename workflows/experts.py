"""The fast preset's graph: Wan2.2 I2V A14B's two experts, each with a step-distill LoRA.

Wan2.2 splits denoising between a high-noise expert (the early, noisy steps: motion and
layout) and a low-noise expert (the late steps: detail). `use_experts` turns the standard
I2V prompt into that graph: loader 9 loads the high-noise expert with LoRA 30, a second loader
31 (sharing the block swap 8) the low-noise one with LoRA 32; sampler 11 runs steps
[0, split) and sampler 33 continues its latents over [split, steps); the decoder reads 33.
Wan2.2 I2V takes no CLIP vision embeds, so nodes 3 and 4 go.
"""

from __future__ import annotations

import copy
from typing import Any

from workflows.hardware import Hardware, Models

Prompt = dict[str, dict[str, Any]]

HIGH_LOADER, LOW_LOADER = "9", "31"
HIGH_LORA, LOW_LORA = "30", "32"
HIGH_SAMPLER, LOW_SAMPLER = "11", "33"
DECODER = "12"
EXPERT_NODES = frozenset({HIGH_LOADER, LOW_LOADER, HIGH_LORA, LOW_LORA})
CLIP_NODES = ("3", "4")
IMAGE_EMBEDS = "10"


def _quantization(model: str, hardware: Hardware) -> str:
    """A pre-scaled fp8 file needs a `*_scaled` mode or `disabled` (read from the weights)."""
    if "scaled" in model.lower() and "scaled" not in hardware.quantization:
        return "disabled"
    return hardware.quantization


def _lora(name: str, strength: float) -> dict[str, Any]:
    return {
        "class_type": "WanVideoLoraSelect",
        "inputs": {"lora": name, "strength": strength, "low_mem_load": False},
        "_meta": {"title": "Step-distill LoRA"},
    }


def use_experts(prompt: Prompt, models: Models, hardware: Hardware, split: int) -> None:
    """Rewrite the standard I2V `prompt` (bindings applied) into the two-expert graph."""
    for node_id in CLIP_NODES:
        prompt.pop(node_id, None)
    prompt[IMAGE_EMBEDS]["inputs"].pop("clip_embeds", None)

    high = prompt[HIGH_LOADER]["inputs"]
    low_loader = copy.deepcopy(prompt[HIGH_LOADER])
    high["model"] = models.i2v_fast_high
    high["quantization"] = _quantization(models.i2v_fast_high, hardware)
    high["lora"] = [HIGH_LORA, 0]
    low_loader["inputs"].update(
        model=models.i2v_fast_low,
        quantization=_quantization(models.i2v_fast_low, hardware),
        lora=[LOW_LORA, 0],
    )
    low_loader["_meta"] = {"title": "Wan2.2 low-noise expert"}
    prompt[HIGH_LOADER]["_meta"] = {"title": "Wan2.2 high-noise expert"}
    prompt[LOW_LOADER] = low_loader
    prompt[HIGH_LORA] = _lora(models.fast_lora_high, models.fast_lora_high_strength)
    prompt[LOW_LORA] = _lora(models.fast_lora_low, models.fast_lora_low_strength)

    first = prompt[HIGH_SAMPLER]
    first["inputs"].update(start_step=0, end_step=split)
    second = copy.deepcopy(first)
    second["inputs"].update(
        model=[LOW_LOADER, 0],
        samples=[HIGH_SAMPLER, 0],
        start_step=split,
        end_step=-1,
        add_noise_to_samples=False,
    )
    second["_meta"] = {"title": "Sampler (low-noise expert)"}
    prompt[LOW_SAMPLER] = second
    prompt[DECODER]["inputs"]["samples"] = [LOW_SAMPLER, 0]
