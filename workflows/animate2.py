"""Wan-Animate-2 on ComfyUI's own nodes: a photo moved like a video of a person, no pose step.

The graph follows Comfy-Org's "Wan Animate 2" template (`video_wan_animate2`, its "Motion
Transfer" subgraph): the model by `UNETLoader`, lightx2v's step-distill LoRA
(`LoraLoaderModelOnly`, skipped when `Models.animate2_lora` is empty, as for the distilled
model), `WanAnimate2Cache` (the pose branch's activations computed once per clip, kept in system
RAM as int8), `ModelSamplingSD3` for the flow shift, then one `SamplerCustom` pass per clip with
`KSamplerSelect` and `BasicScheduler`. `WanAnimate2ToVideo` takes the photo (`reference_image`),
the driving video's frames (`pose_video`, from `LoadVideo` + `GetVideoComponents`), the CLIP
vision of the photo and of the video's first frame; its latent starts with the photo's frame,
which `TrimVideoLatent` drops (`trim_latent`) before decoding.

A video longer than `params.frame_window` is made clip by clip, as the template's note says to
chain its subgraph: each next clip continues from the last decoded frame of the one before
(`continue_motion`), reads the driving video from where that one stopped (its
`video_frame_offset` output), and repeats that frame first, so `ImageFromBatch` drops it (the
`trim_image` frame) and cuts the last clip to the frames asked for; `ImageBatch` joins them.

Node ids: 1 LoadImage (the photo), 20 LoadVideo (the driving video), 13 SaveVideo (the output,
as in the other graphs) via 64 CreateVideo; 50-53 text encoder, prompts and VAE and 54/56/58
the model chain as in `workflows.native`; 65 WanAnimate2Cache, 66 KSamplerSelect, 67
BasicScheduler, 70 GetVideoComponents, 71 CLIPVisionLoader, 72 ImageScale (the photo at the
video's size), 73/75 CLIPVisionEncode (photo / first video frame), 74 ImageFromBatch (that
frame). Clip k (from 0) uses 100+10k: +0 WanAnimate2ToVideo, +1 SamplerCustom, +2
TrimVideoLatent, +3 the decoder, +4 ImageFromBatch (clips after the first), +5 ImageBatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows.builder import Prompt
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.native import (
    HIGH_LORA,
    HIGH_MODEL,
    HIGH_SHIFT,
    OUTPUT,
    START_IMAGE,
    Probe,
    add_decode,
    add_save,
    add_text,
    describe,
    ksampler_settings,
    node,
    wan_conditioning,
)
from workflows.params import GenerationRequest, Mode, Params
from workflows.validate import validate_prompt

__all__ = [
    "OUTPUT",
    "Clip",
    "build_animate2_prompt",
    "clip_plan",
    "missing_for_animate2",
]

PHOTO, MOTION = START_IMAGE, "20"
MODEL, LORA, SHIFT = HIGH_MODEL, HIGH_LORA, HIGH_SHIFT
CACHE, SAMPLER_SELECT, SIGMAS = "65", "66", "67"
COMPONENTS, CLIP_VISION, PHOTO_SCALED, PHOTO_VISION = "70", "71", "72", "73"
FIRST_FRAME, FIRST_FRAME_VISION = "74", "75"
CLIP_BASE, CLIP_STRIDE = 100, 10
CONDITION, SAMPLE, TRIM, CLIP_DECODE, KEEP, JOIN = range(6)
# The template's WanAnimate2Cache settings but on the CPU, as its note advises (the cache does
# not fit in VRAM beside the model): int8 halves the ~12.5 GB an 81-frame 480p clip takes.
CACHE_SETTINGS = {"device": "cpu", "dtype": "int8"}
# WanAnimate2ToVideo's `length` counts frames in steps of 4 from 1 (a latent frame is 4).
FRAME_STEP = 4


@dataclass(frozen=True)
class Clip:
    """One clip of an Animate-2 video: the frames it generates (`length`, 4n+1) and, of those,
    the ones the video keeps, from `first` (1 after the first clip: it repeats the frame the
    clip before ended on)."""

    length: int
    first: int
    keep: int


def clip_plan(frames: int, window: int) -> list[Clip]:
    """The clips that make a `frames`-frame video with at most `window` frames each: one when
    the video fits, else a first full window and then clips that each add up to `window - 1`
    new frames (the last one generates up to 3 more than it keeps, to a 4n+1 length)."""
    window = max(FRAME_STEP + 1, window - (window - 1) % FRAME_STEP)
    if frames <= window:
        return [Clip(frames, 0, frames)]
    clips = [Clip(window, 0, window)]
    left = frames - window
    while left > 0:
        new = min(window - 1, left)
        length = FRAME_STEP * -(-new // FRAME_STEP) + 1
        clips.append(Clip(length, 1, new))
        left -= new
    return clips


def build_animate2_prompt(
    request: GenerationRequest,
    uploaded: FileSet[str],
    models: Models,
    hardware: Hardware,
    *,
    filename_prefix: str = "wanbot",
) -> Prompt:
    """The API-format Wan-Animate-2 prompt for `request`, ready to submit: `uploaded.image` is
    the photo, `uploaded.pose[0]` the driving video (an MP4 at the video's size and frame rate,
    at least `params.frames` long; a shorter one holds its last frame).

    Raises `ValueError` for a request this graph cannot make (another mode, no photo or video,
    a scheduler without a core counterpart): a programming error.
    """
    if request.mode is not Mode.ANIMATE2:
        raise ValueError(f"the Animate-2 graph makes animate2, not {request.mode.value}")
    if not uploaded.image or not uploaded.pose:
        raise ValueError("animate2 needs uploaded image and pose (the driving video)")
    params = request.params
    sampling = ksampler_settings(params.scheduler)
    prompt: Prompt = {}
    # The text encoder is native i2v's file; the VAE is the one Comfy-Org packs with the model.
    text_models = models.model_copy(update={"native_vae": models.animate2_vae})
    add_text(prompt, text_models, request.prompt, request.negative_prompt)
    _add_model(prompt, models, params, sampling)
    _add_inputs(prompt, models, uploaded, params)
    images: list[Any] | None = None
    previous: str | None = None
    for index, clip in enumerate(clip_plan(params.frames, params.frame_window)):
        base = str(CLIP_BASE + CLIP_STRIDE * index)
        _add_clip(prompt, base, previous, clip, params, hardware)
        images = _join(prompt, base, images, clip)
        previous = base
    assert images is not None  # clip_plan always has a first clip
    add_save(prompt, images, params.fps, filename_prefix)
    return prompt


def _add_model(prompt: Prompt, models: Models, params: Params, sampling: tuple[str, str]) -> None:
    """The model chain every clip samples with, and the sampler and sigmas they share."""
    # Comfy-Org ships the model int8- or bf16-quantized for ComfyUI; it loads as it is.
    prompt[MODEL] = node(
        "UNETLoader", "Wan-Animate-2", unet_name=models.animate2, weight_dtype="default"
    )
    model = [MODEL, 0]
    if models.animate2_lora:
        prompt[LORA] = node(
            "LoraLoaderModelOnly",
            "Step-distill LoRA",
            model=model,
            lora_name=models.animate2_lora,
            strength_model=models.animate2_lora_strength,
        )
        model = [LORA, 0]
    prompt[CACHE] = node("WanAnimate2Cache", "Pose branch cache", model=model, **CACHE_SETTINGS)
    prompt[SHIFT] = node("ModelSamplingSD3", "Shift", model=[CACHE, 0], shift=params.shift)
    sampler_name, scheduler = sampling
    prompt[SAMPLER_SELECT] = node("KSamplerSelect", "Sampler", sampler_name=sampler_name)
    prompt[SIGMAS] = node(
        "BasicScheduler",
        "Schedule",
        model=[SHIFT, 0],
        scheduler=scheduler,
        steps=params.steps,
        denoise=1.0,
    )


def _add_inputs(prompt: Prompt, models: Models, uploaded: FileSet[str], params: Params) -> None:
    """The photo at the video's size, the driving video's frames, and the CLIP vision of both
    (the template's: the photo as resized, the video's first frame)."""
    prompt[PHOTO] = node("LoadImage", "Photo", image=uploaded.image)
    prompt[PHOTO_SCALED] = node(
        "ImageScale",
        "Photo at the video's size",
        image=[PHOTO, 0],
        upscale_method="area",
        width=params.width,
        height=params.height,
        crop="center",
    )
    prompt[MOTION] = node("LoadVideo", "Driving video", file=uploaded.pose[0])
    prompt[COMPONENTS] = node("GetVideoComponents", "Video frames", video=[MOTION, 0])
    prompt[CLIP_VISION] = node(
        "CLIPVisionLoader", "CLIP vision", clip_name=models.animate2_clip_vision
    )
    prompt[PHOTO_VISION] = node(
        "CLIPVisionEncode",
        "CLIP vision (photo)",
        clip_vision=[CLIP_VISION, 0],
        image=[PHOTO_SCALED, 0],
        crop="none",
    )
    prompt[FIRST_FRAME] = node(
        "ImageFromBatch", "First video frame", image=[COMPONENTS, 0], batch_index=0, length=1
    )
    prompt[FIRST_FRAME_VISION] = node(
        "CLIPVisionEncode",
        "CLIP vision (video)",
        clip_vision=[CLIP_VISION, 0],
        image=[FIRST_FRAME, 0],
        crop="center",
    )


def _id(base: str, part: int) -> str:
    return str(int(base) + part)


def _add_clip(
    prompt: Prompt, base: str, previous: str | None, clip: Clip, params: Params, hw: Hardware
) -> None:
    """One clip's conditioning, sampling and decode; after the first, it continues the one
    before: its last frame, and the driving video from where it stopped."""
    condition = _id(base, CONDITION)
    chained: dict[str, Any] = {"video_frame_offset": 0}
    if previous is not None:
        chained = {
            "continue_motion": [_id(previous, CLIP_DECODE), 0],
            "video_frame_offset": [_id(previous, CONDITION), 5],
        }
    prompt[condition] = node(
        "WanAnimate2ToVideo",
        "Animate-2",
        **wan_conditioning(params, clip.length),
        pose_strength=params.pose_strength,
        pose_start_percent=0.0,
        pose_end_percent=1.0,
        reference_image_strength=1.0,
        reference_image=[PHOTO_SCALED, 0],
        pose_video=[COMPONENTS, 0],
        clip_vision_output=[PHOTO_VISION, 0],
        clip_vision_output_pose=[FIRST_FRAME_VISION, 0],
        **chained,
    )
    prompt[_id(base, SAMPLE)] = node(
        "SamplerCustom",
        "Sampler",
        model=[SHIFT, 0],
        add_noise=True,
        noise_seed=params.seed,
        cfg=params.cfg,
        positive=[condition, 0],
        negative=[condition, 1],
        sampler=[SAMPLER_SELECT, 0],
        sigmas=[SIGMAS, 0],
        latent_image=[condition, 2],
    )
    # The latent starts with the photo's frame: trim it (`trim_latent`) before decoding.
    trim = _id(base, TRIM)
    prompt[trim] = node(
        "TrimVideoLatent", "Drop the photo's frame", samples=[_id(base, SAMPLE), 0],
        trim_amount=[condition, 3],
    )  # fmt: skip
    add_decode(prompt, _id(base, CLIP_DECODE), hw, [trim, 0])


def _join(prompt: Prompt, base: str, images: list[Any] | None, clip: Clip) -> list[Any]:
    """The video so far with this clip's new frames after it."""
    frames = [_id(base, CLIP_DECODE), 0]
    if clip.first or clip.keep != clip.length:
        keep = _id(base, KEEP)
        prompt[keep] = node(
            "ImageFromBatch", "New frames", image=frames, batch_index=clip.first, length=clip.keep
        )
        frames = [keep, 0]
    if images is None:
        return frames
    prompt[_id(base, JOIN)] = node("ImageBatch", "Join", image1=images, image2=frames)
    return [_id(base, JOIN), 0]


def probe_params() -> Params:
    """The recipe of Comfy-Org's template (6 steps, CFG 1, shift 5, LCM) at 480p, one clip."""
    return Params(
        width=832, height=480, frames=81, steps=6, cfg=1.0, shift=5.0, seed=0,
        scheduler="lcm", denoise=1.0, fps=16.0, frame_window=81,
    )  # fmt: skip


def missing_for_animate2(
    object_info: dict[str, Any], models: Models, hardware: Hardware
) -> list[str]:
    """What a host lacks to make Wan-Animate-2, as its schema checks it: a core node class its
    ComfyUI is too old for (`WanAnimate2ToVideo`, `WanAnimate2Cache`, `LoadVideo`...), or a
    model file it does not have. Empty: it can."""
    request = Probe(Mode.ANIMATE2, "probe", "", probe_params())
    uploaded = FileSet[str](image="probe.png", pose=["probe.mp4"])
    prompt = build_animate2_prompt(request, uploaded, models, hardware)
    return [describe(problem, object_info) for problem in validate_prompt(prompt, object_info)]
