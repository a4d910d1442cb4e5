"""Image to video on ComfyUI's own nodes: Wan2.2 I2V A14B's two experts, no custom node pack.

For hosts without ComfyUI-WanVideoWrapper (ComfyUI Desktop, hosted ComfyUI, fresh installs).
The graph follows Comfy-Org's "Wan2.2 14B I2V" and "Wan2.2 14B FLF2V" templates: each expert
loaded by `UNETLoader`, with `ModelSamplingSD3` for the flow shift; two `KSamplerAdvanced`
passes over one schedule, the high-noise expert first (it adds the noise and hands its latent on
with the noise left in), the low-noise expert from the split step to the end. The fast preset
puts lightx2v's 4-step LoRA pair (`LoraLoaderModelOnly`) on the experts; standard runs them bare.
`WanImageToVideo` conditions on the start image, `WanFirstLastFrameToVideo` on start and end
(both resize and centre-crop the images themselves). The decoded frames go through
`CreateVideo` to `SaveVideo`, an H.264 MP4 that `/history` lists as
`outputs["13"] = {"images": [{filename, subfolder, type}], "animated": [true]}`.

Node ids: 1 LoadImage (start), 25 LoadImage (end, only with one), 13 SaveVideo (the output, as
in the wrapper's templates); 50 CLIPLoader, 51/52 CLIPTextEncode (prompt/negative), 53
VAELoader, 54/55 UNETLoader (high/low), 56/57 LoraLoaderModelOnly (fast only), 58/59
ModelSamplingSD3, 60 the image-to-video conditioning, 61/62 KSamplerAdvanced (high/low), 63
VAEDecode (VAEDecodeTiled on a host with `tiled_vae`), 64 CreateVideo.

The request's parameters are WanBot's (WanVideoSampler's scheduler names); `ksampler_settings`
translates the scheduler. KSamplerAdvanced has no denoise strength: image to video starts from
noise, so `denoise` is not used. ComfyUI offloads by itself, so `blocks_to_swap` is not either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows.builder import Prompt, probe_request
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.params import GenerationRequest, Mode, Params
from workflows.validate import Problem, validate_prompt

BACKENDS = ("auto", "wrapper", "native")


def has_wrapper(object_info: Mapping[str, Any]) -> bool:
    """Whether a host has ComfyUI-WanVideoWrapper, even a broken install (some of its
    `WanVideo*` nodes): its graphs then say what is missing."""
    return any(name.startswith("WanVideo") for name in object_info)


def backend_of(object_info: Mapping[str, Any], configured: str = "auto") -> str:
    """Which graphs a host gets: "wrapper" (ComfyUI-WanVideoWrapper's, every mode) where its
    schema has the wrapper's nodes, else "native" (ComfyUI's own nodes: every mode but long
    videos); `configured` ("wrapper" or "native", per host) wins over "auto"."""
    if configured != "auto":
        return configured
    return "wrapper" if has_wrapper(object_info) else "native"


START_IMAGE, END_IMAGE, OUTPUT = "1", "25", "13"
TEXT_ENCODER, POSITIVE, NEGATIVE, VAE = "50", "51", "52", "53"
HIGH_MODEL, LOW_MODEL, HIGH_LORA, LOW_LORA = "54", "55", "56", "57"
HIGH_SHIFT, LOW_SHIFT, CONDITIONING = "58", "59", "60"
HIGH_SAMPLER, LOW_SAMPLER, DECODE, FRAMES = "61", "62", "63", "64"

# WanBot's schedulers are WanVideoSampler's names; KSamplerAdvanced splits each into a sampler
# and a sigma schedule (the flow shift comes from ModelSamplingSD3). The wrapper's UniPC is the
# bh2 variant (Wan's own solver); its "dpm++_sde" is DPM-Solver++ 2M in its SDE form; "/beta"
# means beta-distributed sigmas. Its other schedulers have no core counterpart.
KSAMPLER_SETTINGS: dict[str, tuple[str, str]] = {
    "unipc": ("uni_pc_bh2", "simple"),
    "unipc/beta": ("uni_pc_bh2", "beta"),
    "dpm++": ("dpmpp_2m", "simple"),
    "dpm++/beta": ("dpmpp_2m", "beta"),
    "dpm++_sde": ("dpmpp_2m_sde", "simple"),
    "dpm++_sde/beta": ("dpmpp_2m_sde", "beta"),
    "euler": ("euler", "simple"),
    "euler/beta": ("euler", "beta"),
    "deis": ("deis", "simple"),
    "lcm": ("lcm", "simple"),
    "lcm/beta": ("lcm", "beta"),
    "res_multistep": ("res_multistep", "simple"),
    "er_sde": ("er_sde", "simple"),
}
NATIVE_SCHEDULERS = tuple(KSAMPLER_SETTINGS)
# UNETLoader's fp8 casts, for a host whose experts are not fp8 files already.
FP8_DTYPES = ("fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2")
# VAEDecodeTiled on a small card: spatial tiles of 256 px (ComfyUI's default is 512), ComfyUI's
# defaults for the overlap and the frames decoded at a time.
TILES = {"tile_size": 256, "overlap": 64, "temporal_size": 64, "temporal_overlap": 8}


def ksampler_settings(scheduler: str) -> tuple[str, str]:
    """KSamplerAdvanced's `(sampler_name, scheduler)` for a WanVideoSampler scheduler name.

    Raises `ValueError` for a scheduler without a core counterpart (see `NATIVE_SCHEDULERS`).
    """
    try:
        return KSAMPLER_SETTINGS[scheduler]
    except KeyError:
        raise ValueError(
            f"scheduler {scheduler!r} has no ComfyUI core counterpart; "
            f"use one of {', '.join(NATIVE_SCHEDULERS)}"
        ) from None


def expert_split(params: Params) -> int:
    """The step where the low-noise expert takes over: the request's (the fast preset's), else
    half the steps, as Comfy-Org's template splits its 20 standard steps at 10."""
    return params.split or max(1, params.steps // 2)


def build_native_prompt(
    request: GenerationRequest,
    uploaded: FileSet[str],
    models: Models,
    hardware: Hardware,
    *,
    filename_prefix: str = "wanbot",
) -> Prompt:
    """The API-format image-to-video prompt on core nodes for `request`, ready to submit.

    `request.params.quality` "fast" adds the 4-step LoRA pair; `uploaded.end`, when set, is the
    last frame. Raises `ValueError` for a request this graph cannot make (not image to video,
    no uploaded start image, a scheduler without a core counterpart): a programming error.
    """
    if request.mode is not Mode.I2V:
        raise ValueError(f"the native graph makes image to video, not {request.mode.value}")
    if not uploaded.image:
        raise ValueError("i2v needs uploaded image")
    params = request.params
    sampling = ksampler_settings(params.scheduler)
    prompt: Prompt = {}
    add_text(prompt, models, request.prompt, request.negative_prompt)
    _add_experts(prompt, models, hardware, params)
    _add_conditioning(prompt, uploaded, params)
    _add_samplers(prompt, params, sampling)
    _add_video(prompt, hardware, params.fps, filename_prefix)
    return prompt


def node(class_type: str, title: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs, "_meta": {"title": title}}


def add_text(prompt: Prompt, models: Models, positive: str, negative: str) -> None:
    prompt[TEXT_ENCODER] = node(
        "CLIPLoader", "Text encoder", clip_name=models.native_text_encoder, type="wan"
    )
    clip = [TEXT_ENCODER, 0]
    prompt[POSITIVE] = node("CLIPTextEncode", "Prompt", text=positive, clip=clip)
    prompt[NEGATIVE] = node("CLIPTextEncode", "Negative prompt", text=negative, clip=clip)
    prompt[VAE] = node("VAELoader", "VAE", vae_name=models.native_vae)


def weight_dtype(model: str, hardware: Hardware) -> str:
    """fp8 files load as they are; others are cast to the host's fp8 mode, if it has one."""
    if "fp8" in model.lower() or hardware.quantization not in FP8_DTYPES:
        return "default"
    return hardware.quantization


def _add_experts(prompt: Prompt, models: Models, hardware: Hardware, params: Params) -> None:
    """Each expert: its loader, the fast preset's LoRA, then the flow shift."""
    experts = (
        (HIGH_MODEL, HIGH_LORA, HIGH_SHIFT, "high", models.native_i2v_high),
        (LOW_MODEL, LOW_LORA, LOW_SHIFT, "low", models.native_i2v_low),
    )
    loras = {
        HIGH_LORA: (models.native_lora_high, models.native_lora_high_strength),
        LOW_LORA: (models.native_lora_low, models.native_lora_low_strength),
    }
    for loader, lora, shift, noise, file in experts:
        prompt[loader] = node(
            "UNETLoader",
            f"Wan2.2 {noise}-noise expert",
            unet_name=file,
            weight_dtype=weight_dtype(file, hardware),
        )
        model = [loader, 0]
        if params.quality == "fast":
            name, strength = loras[lora]
            prompt[lora] = node(
                "LoraLoaderModelOnly",
                f"4-step LoRA ({noise} noise)",
                model=model,
                lora_name=name,
                strength_model=strength,
            )
            model = [lora, 0]
        prompt[shift] = node(
            "ModelSamplingSD3", f"Shift ({noise} noise)", model=model, shift=params.shift
        )


def _add_conditioning(prompt: Prompt, uploaded: FileSet[str], params: Params) -> None:
    prompt[START_IMAGE] = node("LoadImage", "Start image", image=uploaded.image)
    images: dict[str, Any] = {"start_image": [START_IMAGE, 0]}
    class_type = "WanImageToVideo"
    if uploaded.end:
        prompt[END_IMAGE] = node("LoadImage", "End image", image=uploaded.end)
        images["end_image"] = [END_IMAGE, 0]
        class_type = "WanFirstLastFrameToVideo"
    prompt[CONDITIONING] = node(
        class_type,
        "Image to video",
        positive=[POSITIVE, 0],
        negative=[NEGATIVE, 0],
        vae=[VAE, 0],
        width=params.width,
        height=params.height,
        length=params.frames,
        batch_size=1,
        **images,
    )


def wan_conditioning(params: Params, length: int) -> dict[str, Any]:
    """The inputs Wan's conditioning nodes share: the prompts (51/52), the VAE (53), the size
    and `length` frames, one video."""
    return {
        "positive": [POSITIVE, 0],
        "negative": [NEGATIVE, 0],
        "vae": [VAE, 0],
        "width": params.width,
        "height": params.height,
        "length": length,
        "batch_size": 1,
    }


def _add_samplers(prompt: Prompt, params: Params, sampling: tuple[str, str]) -> None:
    """Steps [0, split) on the high-noise expert, [split, steps) on the low-noise one."""
    sampler_name, scheduler = sampling
    split = expert_split(params)
    shared = {
        "positive": [CONDITIONING, 0],
        "negative": [CONDITIONING, 1],
        "noise_seed": params.seed,
        "steps": params.steps,
        "cfg": params.cfg,
        "sampler_name": sampler_name,
        "scheduler": scheduler,
    }
    prompt[HIGH_SAMPLER] = node(
        "KSamplerAdvanced",
        "Sampler (high-noise expert)",
        model=[HIGH_SHIFT, 0],
        latent_image=[CONDITIONING, 2],
        add_noise="enable",
        start_at_step=0,
        end_at_step=split,
        return_with_leftover_noise="enable",
        **shared,
    )
    prompt[LOW_SAMPLER] = node(
        "KSamplerAdvanced",
        "Sampler (low-noise expert)",
        model=[LOW_SHIFT, 0],
        latent_image=[HIGH_SAMPLER, 0],
        add_noise="disable",
        start_at_step=split,
        end_at_step=params.steps,
        return_with_leftover_noise="disable",
        **shared,
    )


def _add_video(prompt: Prompt, hardware: Hardware, fps: float, filename_prefix: str) -> None:
    add_decode(prompt, DECODE, hardware, [LOW_SAMPLER, 0])
    add_save(prompt, [DECODE, 0], fps, filename_prefix)


def add_decode(prompt: Prompt, node_id: str, hardware: Hardware, samples: list[Any]) -> None:
    """Decode `samples` at `node_id` with the VAE (node 53), tiled on a host with `tiled_vae`."""
    latents = {"samples": samples, "vae": [VAE, 0]}
    if hardware.tiled_vae:
        prompt[node_id] = node("VAEDecodeTiled", "Decode (tiled)", **latents, **TILES)
    else:
        prompt[node_id] = node("VAEDecode", "Decode", **latents)


def add_save(
    prompt: Prompt,
    images: list[Any],
    fps: float,
    filename_prefix: str,
    audio: list[Any] | None = None,
) -> None:
    """`images` (and `audio`, if any) through CreateVideo (node 64) to SaveVideo, node 13."""
    sound = {} if audio is None else {"audio": audio}
    prompt[FRAMES] = node("CreateVideo", "Frames to video", images=images, fps=fps, **sound)
    # "mp4"/"h264" are valid both for SaveVideo's old combos and for its newer dynamic combo
    # (whose top-level `codec` is kept for the old form), so older hosts accept it too.
    prompt[OUTPUT] = node(
        "SaveVideo",
        "Video",
        video=[FRAMES, 0],
        filename_prefix=filename_prefix,
        format="mp4",
        codec="h264",
    )


@dataclass(frozen=True)
class Probe:
    """The fast probe request, with another quality."""

    mode: Mode
    prompt: str
    negative_prompt: str
    params: Params


def missing_for_native(
    object_info: dict[str, Any],
    models: Models,
    hardware: Hardware,
    *,
    quality: str = "fast",
    end_frame: bool = False,
) -> list[str]:
    """What a host lacks to make image to video on ComfyUI's own nodes, at `quality` and with
    an end frame or not, as its schema checks it: a core node class its ComfyUI is too old for,
    or a model file it does not have. Empty: it can."""
    base = probe_request()
    update = {"quality": quality, "split": 0 if quality != "fast" else base.params.split}
    request = Probe(
        base.mode, base.prompt, base.negative_prompt, base.params.model_copy(update=update)
    )
    uploaded = FileSet[str](image="probe.png", end="probe_end.png" if end_frame else None)
    return problems_on(build_native_prompt(request, uploaded, models, hardware), object_info)


def problems_on(prompt: Prompt, object_info: dict[str, Any]) -> list[str]:
    """What a host lacks to run `prompt`, as its schema checks it, one line each (an absent
    node class once, though a chain of windows uses it in every window)."""
    lines: list[str] = []
    absent: set[str] = set()
    for problem in validate_prompt(prompt, object_info):
        if problem.input_name is None and problem.class_type not in object_info:
            if problem.class_type in absent:
                continue
            absent.add(problem.class_type)
        lines.append(describe(problem, object_info))
    return lines


def describe(problem: Problem, object_info: dict[str, Any]) -> str:
    """The validator's line, except for an absent core class: no custom node pack adds it."""
    if problem.input_name is None and problem.class_type not in object_info:
        return (
            f"node {problem.node_id} ({problem.class_type}): the host's ComfyUI has no "
            f"{problem.class_type} node; update ComfyUI"
        )
    return str(problem)
