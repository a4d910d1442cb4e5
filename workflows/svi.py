"""One clip of a long image-to-video: a Stable Video Infinity 2.0 Pro prompt, continued by the next.

A video longer than one clip is a chain of clips, each its own ComfyUI prompt. A clip is the fast
preset's graph (`workflows.experts`: Wan2.2 I2V A14B's two experts with step-distill LoRAs) with
the SVI 2.0 Pro LoRAs chained after those (34 high, 35 low) and `WanVideoSVIProEmbeds` (10) in
place of the image-to-video encoder. Its conditioning is the anchor, the start image encoded
alone (`WanVideoEncode` 40), then for every clip after the first the previous clip's last latent
(`LoadLatent` 41, a `.latent` file uploaded to the host's input folder), then zeros. Each clip
writes its own last latent for the next one (`LatentCut` 42 -> `SaveLatent` 43: `/history` lists
it under `outputs["43"]["latents"]`, a file `GET /view` serves) beside its decoded video (13).

Joining: a later clip's first frame is the anchor again and its next four re-make the previous
clip's last latent, so its first `OVERLAP_FRAMES` frames are dropped (the SVI 2.0 Pro reference
joins with `--num_overlap_frame 5 --num_motion_latent 1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows.builder import Prompt, build_prompt, probe_request
from workflows.experts import EXPERT_NODES, HIGH_LORA, LOW_LORA, LOW_SAMPLER
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.params import GenerationRequest, Mode, Params
from workflows.validate import validate_prompt

EMBEDS, ANCHOR, PREVIOUS, MOTION_CUT, MOTION_SAVE = "10", "40", "41", "42", "43"
SVI_LORA_HIGH, SVI_LORA_LOW = "34", "35"
# A video made another way, continued from its last frames: 44 VHS_LoadVideo, 45 its encoding,
# 46 its last latent.
TAIL_VIDEO, TAIL_ENCODE, TAIL_CUT = "44", "45", "46"
HIGH_LOADER, LOW_LOADER, VAE, START_IMAGE = "9", "31", "7", "2"
SVI_NODES = frozenset(
    {EMBEDS, ANCHOR, PREVIOUS, MOTION_CUT, MOTION_SAVE, SVI_LORA_HIGH, SVI_LORA_LOW}
)
# The reference uses one latent (four frames) of the previous clip, the wrapper's default too.
MOTION_LATENTS = 1
OVERLAP_FRAMES = 1 + 4 * MOTION_LATENTS
# The last frames of a video continued from its frames: encoded, their last latent is the
# motion latent (one frame for the first latent's place, then four).
TAIL_FRAMES = OVERLAP_FRAMES
SVI_LORA_STRENGTH = 1.0
SEED_LIMIT = 2**64  # WanVideoSampler's seeds are 0 .. 2**64 - 1


@dataclass(frozen=True)
class _Clip:
    """The chain's request as one clip sees it: its own seed."""

    mode: Mode
    prompt: str
    negative_prompt: str
    params: Params


def clip_seed(seed: int, clip_index: int) -> int:
    """The seed of clip `clip_index` (0 first) of a chain started with `seed`.

    Every clip needs noise of its own: the same noise in each clip adds up to artifacts.
    """
    return (seed + clip_index) % SEED_LIMIT


def build_svi_clip(
    request: GenerationRequest,
    uploaded: FileSet[str],
    models: Models,
    hardware: Hardware,
    *,
    clip_index: int,
    previous_latent: str | None,
    previous_frames: str | None = None,
    filename_prefix: str = "wanbot",
) -> Prompt:
    """The API-format prompt of clip `clip_index` (0 first) of a long image-to-video.

    `request` is the clip's: its prompt (one per shot) and the chain's parameters, which must
    be the fast preset's; the clip samples with `clip_seed(request.params.seed, clip_index)`.
    `uploaded.image` is the anchor, the chain's start image. `previous_latent` is the host's
    name of the previous clip's saved latent after upload: None for clip 0 only. A video made
    another way is continued from its last frames instead (`previous_frames`: the host's name
    of a short video of them, encoded in the graph; the motion latent is its last).

    Raises `ValueError` for a request no clip can be made of (a programming error).
    """
    _check_clip(request, uploaded, clip_index, previous_latent or previous_frames)
    if previous_latent is not None and previous_frames is not None:
        raise ValueError("a clip continues a latent or frames, not both")
    params = request.params.model_copy(update={"seed": clip_seed(request.params.seed, clip_index)})
    clip = _Clip(request.mode, request.prompt, request.negative_prompt, params)
    prompt = build_prompt(clip, uploaded, models, hardware, filename_prefix=filename_prefix)
    _condition(prompt, hardware, params.frames, previous_latent)
    if previous_frames is not None:
        _continue_frames(prompt, hardware, params, previous_frames)
    _add_svi_loras(prompt, models)
    _save_motion(prompt, filename_prefix)
    return prompt


def _check_clip(
    request: GenerationRequest,
    uploaded: FileSet[str],
    clip_index: int,
    previous_latent: str | None,
) -> None:
    if request.mode is not Mode.I2V or request.params.quality != "fast":
        raise ValueError("SVI clips are image to video with the fast preset's two experts")
    if uploaded.end is not None:
        raise ValueError("an SVI clip has no end image")
    if clip_index < 0:
        raise ValueError(f"clip_index must be 0 or more, not {clip_index}")
    if (clip_index == 0) != (previous_latent is None):
        raise ValueError("clip 0, and only clip 0, starts without the previous clip's latent")


def _condition(
    prompt: Prompt, hardware: Hardware, frames: int, previous_latent: str | None
) -> None:
    """Replace the image-to-video encoder with SVI's anchor + motion latents + zeros."""
    prompt[ANCHOR] = _encoded(START_IMAGE, "Anchor (start image encoded)", hardware)
    embeds = _node(
        "WanVideoSVIProEmbeds",
        "SVI 2.0 Pro embeds",
        anchor_samples=[ANCHOR, 0],
        num_frames=frames,
        motion_latent_count=MOTION_LATENTS,
    )
    if previous_latent is not None:
        prompt[PREVIOUS] = _node(
            "LoadLatent", "Previous clip's last latent", latent=previous_latent
        )
        embeds["inputs"]["prev_samples"] = [PREVIOUS, 0]
    prompt[EMBEDS] = embeds


def _encoded(images: str, title: str, hardware: Hardware) -> dict[str, Any]:
    """`WanVideoEncode` of node `images`' frames (tiled on a host that tiles its VAE)."""
    return _node(
        "WanVideoEncode",
        title,
        vae=[VAE, 0],
        image=[images, 0],
        enable_vae_tiling=hardware.tiled_vae,
        tile_x=272,
        tile_y=272,
        tile_stride_x=144,
        tile_stride_y=128,
        noise_aug_strength=0.0,
        latent_strength=1.0,
    )


def _last_latents(samples: str, title: str) -> dict[str, Any]:
    """`LatentCut` of node `samples`' last `MOTION_LATENTS` latents (the motion latent)."""
    return _node(
        "LatentCut", title, samples=[samples, 0], dim="t", index=-MOTION_LATENTS,
        amount=MOTION_LATENTS,
    )  # fmt: skip


def _continue_frames(prompt: Prompt, hardware: Hardware, params: Params, video: str) -> None:
    """The motion latent from the last frames of a video made another way: loaded at the
    clip's size, encoded, and its last latent kept."""
    prompt[TAIL_VIDEO] = _node(
        "VHS_LoadVideo",
        "Last frames of the video continued",
        video=video,
        force_rate=0.0,
        custom_width=params.width,
        custom_height=params.height,
        frame_load_cap=0,
        skip_first_frames=0,
        select_every_nth=1,
        format="None",
    )
    prompt[TAIL_ENCODE] = _encoded(TAIL_VIDEO, "Last frames encoded", hardware)
    prompt[TAIL_CUT] = _last_latents(TAIL_ENCODE, "Their last latent")
    prompt[EMBEDS]["inputs"]["prev_samples"] = [TAIL_CUT, 0]


def _add_svi_loras(prompt: Prompt, models: Models) -> None:
    """Chain each expert's SVI LoRA after its step-distill LoRA."""
    for node_id, after, loader, name in (
        (SVI_LORA_HIGH, HIGH_LORA, HIGH_LOADER, models.svi_lora_high),
        (SVI_LORA_LOW, LOW_LORA, LOW_LOADER, models.svi_lora_low),
    ):
        prompt[node_id] = _node(
            "WanVideoLoraSelect",
            "SVI 2.0 Pro LoRA",
            lora=name,
            strength=SVI_LORA_STRENGTH,
            low_mem_load=False,
            prev_lora=[after, 0],
        )
        prompt[loader]["inputs"]["lora"] = [node_id, 0]


def _save_motion(prompt: Prompt, filename_prefix: str) -> None:
    """Save the denoised clip's last latent(s): what the next clip continues from."""
    prompt[MOTION_CUT] = _last_latents(LOW_SAMPLER, "Last latent")
    prompt[MOTION_SAVE] = _node(
        "SaveLatent",
        "Latent for the next clip",
        samples=[MOTION_CUT, 0],
        filename_prefix=f"{filename_prefix}_motion",
    )


def _node(class_type: str, title: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": title}}


def missing_for_svi(object_info: dict[str, Any], models: Models, hardware: Hardware) -> list[str]:
    """What a host lacks to make long videos' clips, as its schema checks them: the fast
    preset's files, the SVI LoRAs, or a node class (`WanVideoSVIProEmbeds` needs
    ComfyUI-WanVideoWrapper 1.4.5 of 2025-12-28 or later). Empty: it can."""
    prompt = build_svi_clip(
        probe_request(),
        FileSet[str](image="probe.png"),
        models,
        hardware,
        clip_index=1,
        previous_latent="probe.latent",
    )
    chain_nodes = SVI_NODES | EXPERT_NODES
    return [
        str(problem)
        for problem in validate_prompt(prompt, object_info)
        if problem.node_id in chain_nodes or not problem.node_id
    ]
