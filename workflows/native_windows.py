"""Videos longer than one generation window on ComfyUI's own nodes: the window plan, and the
nodes each window adds (sampler, trims, decode, the growing batch of frames).

Talking (`workflows.native_talk`) and animating (`workflows.native_animate`) make one window of
frames per conditioning node; each later window starts from the last frames of the video so far
(`overlap` of them), which it decodes again, so they are trimmed off before its frames are
appended. A whole video is one graph: a chain of windows, each fed the frames before it.

Node ids: 70 UNETLoader, 71 ModelSamplingSD3, 75 CLIPVisionLoader, 76 CLIPVisionEncode (of the
image at node 1), 65 the final trim to the requested length (only when the windows overshoot
it); window k (from 0) uses ids 100 + 10k onwards: +0 its conditioning node (the caller's),
+1 KSampler, +2 TrimVideoLatent (only where the conditioning puts reference latents first),
+3 decode, +4 ImageFromBatch (the overlap off; later windows), +5 BatchImagesNode (the video so
far; later windows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows.builder import Prompt
from workflows.hardware import Hardware, Models
from workflows.native import START_IMAGE, add_decode, ksampler_settings, node, weight_dtype
from workflows.params import Params

MODEL, SHIFT, CLIP_VISION, CLIP_EMBEDS, FINAL_TRIM = "70", "71", "75", "76", "65"
# ImageFromBatch takes at most this many frames (its `length` input's maximum).
MAX_BATCH = 4096


def window_id(index: int, offset: int = 0) -> str:
    """The id of window `index`'s node `offset` (0: its conditioning node)."""
    return str(100 + 10 * index + offset)


def round_up_4n1(count: int) -> int:
    """The smallest 4n+1 at or above `count`: Wan's frame counts."""
    return count + (-(count - 1) % 4)


def plan_windows(frames: int, window: int, overlap: int) -> list[int]:
    """The length of each window to cover `frames` frames: `window` each, each later one
    repeating `overlap` frames of the one before; the last is cut to what is left (rounded up
    to 4n+1, so the windows may overshoot by up to 3 frames). Raises `ValueError` when a
    window could add nothing (`overlap` >= `window`)."""
    if overlap >= window:
        raise ValueError(f"a window of {window} frames cannot repeat {overlap} of them")
    lengths = [min(window, round_up_4n1(frames))]
    made = lengths[0]
    while made < frames:
        length = min(window, round_up_4n1(frames - made + overlap))
        lengths.append(length)
        made += length - overlap
    return lengths


def covered(lengths: list[int], overlap: int) -> int:
    """How many frames the windows of `plan_windows` make together."""
    return sum(lengths) - overlap * (len(lengths) - 1)


def add_model(prompt: Prompt, file: str, hardware: Hardware, params: Params, title: str) -> None:
    """The diffusion model (node 70) with the request's flow shift (node 71)."""
    prompt[MODEL] = node(
        "UNETLoader", title, unet_name=file, weight_dtype=weight_dtype(file, hardware)
    )
    prompt[SHIFT] = node("ModelSamplingSD3", "Shift", model=[MODEL, 0], shift=params.shift)


def add_clip_vision(prompt: Prompt, models: Models) -> None:
    """CLIP vision H's embedding of the start/reference image (node 1), at node 76."""
    prompt[CLIP_VISION] = node(
        "CLIPVisionLoader", "CLIP vision", clip_name=models.native_clip_vision
    )
    prompt[CLIP_EMBEDS] = node(
        "CLIPVisionEncode",
        "CLIP vision encode",
        clip_vision=[CLIP_VISION, 0],
        image=[START_IMAGE, 0],
        crop="center",
    )


@dataclass(frozen=True)
class Outputs:
    """Where a conditioning node's outputs are: the model to sample (a link), and the
    indices of its conditionings, latent, latent trim (None: none) and image trim."""

    model: list[Any]
    positive: int
    negative: int
    latent: int
    trim_latent: int | None
    trim_image: int


def add_window(
    prompt: Prompt,
    index: int,
    outputs: Outputs,
    params: Params,
    hardware: Hardware,
    new_frames: int,
) -> list[Any]:
    """Sample and decode window `index` (its conditioning node is in `prompt`), keep its
    `new_frames` new frames, and append them to the video so far. Returns the link to the
    video so far."""
    cond = window_id(index)
    sampler_name, scheduler = ksampler_settings(params.scheduler)
    prompt[window_id(index, 1)] = node(
        "KSampler",
        "Sampler",
        model=outputs.model,
        positive=[cond, outputs.positive],
        negative=[cond, outputs.negative],
        latent_image=[cond, outputs.latent],
        seed=params.seed,
        steps=params.steps,
        cfg=params.cfg,
        sampler_name=sampler_name,
        scheduler=scheduler,
        denoise=params.denoise,
    )
    samples = [window_id(index, 1), 0]
    if outputs.trim_latent is not None:
        prompt[window_id(index, 2)] = node(
            "TrimVideoLatent",
            "Reference latents off",
            samples=samples,
            trim_amount=[cond, outputs.trim_latent],
        )
        samples = [window_id(index, 2), 0]
    add_decode(prompt, window_id(index, 3), hardware, samples)
    if index == 0:
        return [window_id(index, 3), 0]
    return _append(prompt, index, outputs.trim_image, new_frames)


def _append(prompt: Prompt, index: int, trim_image: int, new_frames: int) -> list[Any]:
    """Window `index`'s decoded frames less the ones it repeats (its conditioning node's
    output `trim_image` says how many), after the video so far."""
    prompt[window_id(index, 4)] = node(
        "ImageFromBatch",
        "Repeated frames off",
        image=[window_id(index, 3), 0],
        batch_index=[window_id(index), trim_image],
        length=new_frames,
    )
    before = window_id(index - 1, 5) if index > 1 else window_id(0, 3)
    prompt[window_id(index, 5)] = node(
        "BatchImagesNode",
        "The video so far",
        **{"images.image0": [before, 0], "images.image1": [window_id(index, 4), 0]},
    )
    return [window_id(index, 5), 0]


def trim_to(prompt: Prompt, video: list[Any], made: int, frames: int) -> list[Any]:
    """`video` (`made` frames) cut to its first `frames`, where the windows overshot."""
    if made <= frames or frames > MAX_BATCH:
        return video
    prompt[FINAL_TRIM] = node(
        "ImageFromBatch", "Cut to length", image=video, batch_index=0, length=frames
    )
    return [FINAL_TRIM, 0]
