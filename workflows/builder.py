"""Turn a request (a `GenerationRequest`: mode, prompts, parameters) into an API-format prompt.

Each mode has a template in `templates/<mode>.json` with stable node ids. `BINDINGS` says, per
mode, which value lands in which node input; `build_prompt` copies the template, applies the
bindings, and removes the nodes of optional inputs the request does not have.

Node ids shared by all templates: 1 LoadImage (start/reference image), 2 ImageResizeKJv2,
3 CLIPVisionLoader, 4 WanVideoClipVisionEncode, 5 LoadWanVideoT5TextEncoder,
6 WanVideoTextEncode, 7 WanVideoVAELoader, 8 WanVideoBlockSwap, 9 WanVideoModelLoader,
10 the mode's image-embeds node, 11 WanVideoSampler, 12 decode (WanVideoDecode, or
WanVideoPassImagesFromSamples for InfiniteTalk), 13 VHS_VideoCombine.
InfiniteTalk adds 14 MultiTalkModelLoader, 15 Wav2VecModelLoader, 16 LoadAudio,
17 MultiTalkWav2VecEmbeds. Animate adds 20 VHS_LoadVideo (pose), 21 VHS_LoadVideo (face),
22 LoadImage (background), 23 ImageResizeKJv2, 24 RepeatImageBatch. I2V's end frame is
25 LoadImage and 26 ImageResizeKJv2 (dropped without one). The fast I2V preset
adds 30-33 (`workflows.experts`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from workflows.experts import EXPERT_NODES, use_experts
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.params import GenerationRequest, Mode, Params
from workflows.validate import validate_prompt

Prompt = dict[str, dict[str, Any]]

# The same ids play the same role in every template.
SAMPLER_NODE: dict[Mode, str] = dict.fromkeys(Mode, "11")
OUTPUT_NODE: dict[Mode, str] = dict.fromkeys(Mode, "13")
MODEL_LOADER_NODE = "9"


@dataclass(frozen=True)
class _Sources:
    request: GenerationRequest
    uploaded: FileSet[str]
    models: Models
    hardware: Hardware
    filename_prefix: str


Source = Callable[[_Sources], Any]
# (node id, input name, where the value comes from)
Binding = tuple[str, str, Source]


def _param(name: str) -> Source:
    return lambda s: getattr(s.request.params, name)


def _model(name: str) -> Source:
    return lambda s: getattr(s.models, name)


def _hw(name: str) -> Source:
    return lambda s: getattr(s.hardware, name)


def _upload(name: str) -> Source:
    """The host's name of an uploaded file; of the clip, for pose and face (one each)."""

    def source(s: _Sources) -> Any:
        value = getattr(s.uploaded, name)
        return value[0] if isinstance(value, list) else value

    return source


def _quantization(model_field: str) -> Source:
    """The host's fp8 mode, except for pre-scaled fp8 weights.

    A file named `..._scaled...` carries its own scales; WanVideoModelLoader only accepts a
    `*_scaled` mode or `disabled` (auto-detect from the weights) for it.
    """

    def source(s: _Sources) -> str:
        model = str(getattr(s.models, model_field)).lower()
        wanted = s.hardware.quantization
        if "scaled" in model and "scaled" not in wanted:
            return "disabled"
        return wanted

    return source


def _common(main_model: str) -> list[Binding]:
    return [
        ("1", "image", _upload("image")),
        ("2", "width", _param("width")),
        ("2", "height", _param("height")),
        ("3", "clip_name", _model("clip_vision")),
        ("5", "model_name", _model("t5")),
        ("6", "positive_prompt", lambda s: s.request.prompt),
        ("6", "negative_prompt", lambda s: s.request.negative_prompt),
        ("7", "model_name", _model("vae")),
        ("8", "blocks_to_swap", _hw("blocks_to_swap")),
        ("9", "model", _model(main_model)),
        ("9", "base_precision", _hw("base_precision")),
        ("9", "quantization", _quantization(main_model)),
        ("9", "attention_mode", _hw("attention_mode")),
        ("11", "steps", _param("steps")),
        ("11", "cfg", _param("cfg")),
        ("11", "shift", _param("shift")),
        ("11", "seed", _param("seed")),
        ("11", "scheduler", _param("scheduler")),
        ("11", "denoise_strength", _param("denoise")),
        ("13", "frame_rate", _param("fps")),
        ("13", "filename_prefix", lambda s: s.filename_prefix),
    ]


BINDINGS: dict[Mode, list[Binding]] = {
    Mode.I2V: [
        *_common("i2v"),
        ("25", "image", _upload("end")),
        ("26", "width", _param("width")),
        ("26", "height", _param("height")),
        ("10", "width", _param("width")),
        ("10", "height", _param("height")),
        ("10", "num_frames", _param("frames")),
        ("10", "tiled_vae", _hw("tiled_vae")),
        ("12", "enable_vae_tiling", _hw("tiled_vae")),
    ],
    Mode.INFINITETALK: [
        *_common("i2v"),
        ("14", "model", _model("infinitetalk")),
        ("15", "model", _model("wav2vec")),
        ("16", "audio", _upload("audio")),
        ("17", "num_frames", _param("frames")),
        ("17", "fps", _param("fps")),
        ("10", "width", _param("width")),
        ("10", "height", _param("height")),
        ("10", "frame_window_size", _param("frame_window")),
        ("10", "motion_frame", _param("motion_frame")),
        ("10", "tiled_vae", _hw("tiled_vae")),
    ],
    Mode.ANIMATE: [
        *_common("animate"),
        ("20", "video", _upload("pose")),
        ("20", "force_rate", _param("fps")),
        ("20", "custom_width", _param("width")),
        ("20", "custom_height", _param("height")),
        ("20", "frame_load_cap", _param("frames")),
        ("21", "video", _upload("face")),
        ("21", "force_rate", _param("fps")),
        ("21", "frame_load_cap", _param("frames")),
        ("22", "image", _upload("background")),
        ("23", "width", _param("width")),
        ("23", "height", _param("height")),
        ("24", "amount", _param("frames")),
        ("10", "width", _param("width")),
        ("10", "height", _param("height")),
        ("10", "num_frames", _param("frames")),
        ("10", "frame_window_size", _param("frame_window")),
        ("10", "colormatch", _param("color_match")),
        ("10", "pose_strength", _param("pose_strength")),
        ("10", "face_strength", _param("face_strength")),
        ("10", "tiled_vae", _hw("tiled_vae")),
        ("12", "enable_vae_tiling", _hw("tiled_vae")),
    ],
}

# The modes with a template of ComfyUI-WanVideoWrapper's nodes (Wan-Animate-2 exists only on
# ComfyUI's own nodes: `workflows.animate2`).
TEMPLATE_MODES = (Mode.I2V, Mode.INFINITETALK, Mode.ANIMATE)

REQUIRED_UPLOADS: dict[Mode, tuple[str, ...]] = {
    Mode.I2V: ("image",),
    Mode.INFINITETALK: ("image", "audio"),
    Mode.ANIMATE: ("image", "pose"),
}

# Optional upload -> the nodes that exist only to feed it; dropped when it is absent.
OPTIONAL_NODES: dict[Mode, dict[str, tuple[str, ...]]] = {
    Mode.I2V: {"end": ("25", "26")},
    Mode.INFINITETALK: {},
    Mode.ANIMATE: {"face": ("21",), "background": ("22", "23", "24")},
}


def load_template(mode: Mode) -> Prompt:
    """A fresh copy of the bundled template for `mode`."""
    text = resources.files("workflows").joinpath("templates", f"{mode.value}.json")
    template: Prompt = json.loads(text.read_text(encoding="utf-8"))
    return template


def _remove_nodes(prompt: Prompt, doomed: Iterable[str]) -> None:
    """Delete nodes and every input that links to them."""
    gone = set(doomed)
    for node_id in gone:
        prompt.pop(node_id, None)
    for node in prompt.values():
        inputs = node["inputs"]
        for name in [n for n, v in inputs.items() if _is_link(v) and v[0] in gone]:
            del inputs[name]


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def upstream_nodes(prompt: Prompt, start: str) -> set[str]:
    """`start` and every node it depends on through links."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in prompt:
            continue
        seen.add(node_id)
        todo.extend(v[0] for v in prompt[node_id]["inputs"].values() if _is_link(v))
    return seen


def build_prompt(
    request: GenerationRequest,
    uploaded: FileSet[str],
    models: Models,
    hardware: Hardware,
    *,
    filename_prefix: str = "wanbot",
) -> Prompt:
    """The API-format prompt for `request`, ready to submit.

    Raises `ValueError` when an upload the mode needs is missing from `uploaded` (a
    programming error: the request was checked before the upload).
    """
    mode = request.mode
    missing = [name for name in REQUIRED_UPLOADS[mode] if not getattr(uploaded, name)]
    if missing:
        raise ValueError(f"{mode.value} needs uploaded {', '.join(missing)}")
    prompt = load_template(mode)
    sources = _Sources(request, uploaded, models, hardware, filename_prefix)

    absent = [
        node_id
        for upload, nodes in OPTIONAL_NODES[mode].items()
        if not getattr(uploaded, upload)
        for node_id in nodes
    ]
    _remove_nodes(prompt, absent)
    for node_id, input_name, source in BINDINGS[mode]:
        if node_id not in absent:
            # KeyError here means BINDINGS and the template disagree: a bug, caught by tests.
            prompt[node_id]["inputs"][input_name] = source(sources)

    if mode is Mode.I2V and request.params.quality == "fast":
        use_experts(prompt, models, hardware, request.params.split)
    keep = upstream_nodes(prompt, OUTPUT_NODE[mode])
    _remove_nodes(prompt, set(prompt) - keep)
    return prompt


def _probe_params() -> Params:
    return Params(
        width=832, height=480, frames=81, steps=6, cfg=1.0, shift=8.0, seed=0,
        scheduler="dpm++_sde", denoise=1.0, fps=16.0, quality="fast", split=3,
    )  # fmt: skip


@dataclass(frozen=True)
class _Probe:
    """A fast request, to build the graph a host must be able to load."""

    mode: Mode = Mode.I2V
    prompt: str = "probe"
    negative_prompt: str = ""
    params: Params = field(default_factory=_probe_params)


def probe_request() -> GenerationRequest:
    """A fast image-to-video request, to build the graphs a host must be able to load."""
    return _Probe()


def missing_for_fast(object_info: dict[str, Any], models: Models, hardware: Hardware) -> list[str]:
    """What a host lacks to run the fast preset: its experts' loaders and LoRAs as the host's
    schema checks them (missing files, or no `WanVideoLoraSelect`). Empty: it can."""
    prompt = build_prompt(probe_request(), FileSet[str](image="probe.png"), models, hardware)
    return [
        str(problem)
        for problem in validate_prompt(prompt, object_info)
        if problem.node_id in EXPERT_NODES or not problem.node_id
    ]
