"""ComfyUI `/object_info` schema: the bundled copy and helpers to read input definitions.

`/object_info` maps each node class to its inputs. An input definition is a list whose first
element is the type: a widget type (`"INT"`, `"FLOAT"`, `"BOOLEAN"`, `"STRING"`), a link type
(`"IMAGE"`, `"WANVAE"`, `"*"`, `"IMAGE,MASK"`, `"COMFY_MATCHTYPE_V3"`), or a combo in one of
two shapes: legacy `[[choice, ...], {opts}]` or new `["COMBO", {"options": [...]}]`.

The bundled `schema/object_info.json` holds exactly the node classes our templates use, copied
unchanged from a real host (see `trim_object_info` and `main`), so tests and the offline
`wanbot workflow` command work without a live host.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

WIDGET_TYPES = frozenset({"INT", "FLOAT", "BOOLEAN", "STRING"})
# Flags ComfyUI front ends put on combos whose value is a file the user uploads.
UPLOAD_FLAGS = ("image_upload", "audio_upload", "video_upload", "file_upload")
# Combos that list the host's input folder without an upload flag: VideoHelperSuite's
# loaders (its front end adds the upload button by class name) and core LoadLatent. Like the
# flagged ones, the node checks the value against the folder itself (its VALIDATE_INPUTS), so
# ComfyUI skips the list in `/object_info`, which only shows the folder as it was when fetched.
INPUT_FOLDER_COMBOS = frozenset(
    {
        ("VHS_LoadVideo", "video"),
        ("VHS_LoadVideoFFmpeg", "video"),
        ("VHS_LoadAudioUpload", "audio"),
        ("VHS_LoadImages", "directory"),  # a subfolder of the input folder
        ("LoadLatent", "latent"),  # the `.latent` files at the top of the input folder
    }
)
MODEL_EXTENSIONS = (".safetensors", ".gguf", ".pt", ".pth", ".ckpt", ".bin", ".sft", ".onnx")
SECTIONS = ("required", "optional")


@dataclass(frozen=True)
class InputSpec:
    """One input of a node class, normalised from either combo shape."""

    name: str
    type: str  # widget type, link type, or "COMBO"
    required: bool
    options: dict[str, Any] = field(default_factory=dict)
    choices: tuple[Any, ...] | None = None  # only for combos

    @property
    def is_model_combo(self) -> bool:
        """A combo listing model files found on the host."""
        return self.choices is not None and any(is_model_file(c) for c in self.choices)


def names_input_file(class_type: str, spec: InputSpec) -> bool:
    """Whether the combo `class_type.<spec.name>` names a file in the host's input folder.

    Its list is the folder's content when `/object_info` was fetched, so it lacks the files
    uploaded since (and those about to be uploaded). Decided by the upload flags and by class
    and input name, never by the list's content: model lists must still be checked.
    """
    if spec.choices is None:
        return False
    if (class_type, spec.name) in INPUT_FOLDER_COMBOS:
        return True
    flagged = any(spec.options.get(flag) for flag in UPLOAD_FLAGS)
    # LoadImageOutput carries `image_upload` but lists the output folder.
    return flagged and spec.options.get("image_folder", "input") == "input"


def is_model_file(value: Any) -> bool:
    return isinstance(value, str) and value.lower().endswith(MODEL_EXTENSIONS)


def parse_input(name: str, definition: Any, required: bool) -> InputSpec:
    """Normalise one `/object_info` input definition."""
    if not isinstance(definition, list | tuple):
        # Hidden inputs are bare strings ("UNIQUE_ID"); treat the same everywhere.
        return InputSpec(name, str(definition), required)
    kind = definition[0] if definition else "*"
    options = definition[1] if len(definition) > 1 and isinstance(definition[1], dict) else {}
    if isinstance(kind, list | tuple):
        return InputSpec(name, "COMBO", required, options, tuple(kind))
    if kind == "COMBO":
        return InputSpec(name, "COMBO", required, options, tuple(options.get("options", [])))
    return InputSpec(name, str(kind), required, options)


def input_specs(class_info: dict[str, Any]) -> dict[str, InputSpec]:
    """Required and optional inputs of a node class, by name (hidden inputs excluded)."""
    specs: dict[str, InputSpec] = {}
    for section in SECTIONS:
        for name, definition in class_info.get("input", {}).get(section, {}).items():
            specs[name] = parse_input(name, definition, section == "required")
    return specs


def autogrow_inputs(spec: InputSpec) -> dict[str, InputSpec]:
    """The inputs an autogrow input (`COMFY_AUTOGROW_V3`, e.g. BatchImagesNode's `images`)
    stands for in a prompt: `images.image0` up to its template's `max`, the first `min` of
    them required, each of the template's type. Only `spec` itself for another input, or for
    a template of several inputs (not checked here)."""
    template = spec.options.get("template", {})
    inner = template.get("input", {}).get("required", {}) if isinstance(template, dict) else {}
    if spec.type != "COMFY_AUTOGROW_V3" or len(inner) != 1:
        return {spec.name: spec}
    (definition,) = inner.values()
    low = int(template.get("min", 0)) if spec.required else 0
    names = [f"{spec.name}.{template.get('prefix', '')}{i}" for i in range(template.get("max", 0))]
    return {name: parse_input(name, definition, i < low) for i, name in enumerate(names)}


def hidden_inputs(class_info: dict[str, Any]) -> set[str]:
    return set(class_info.get("input", {}).get("hidden", {}))


def format_widgets(spec: InputSpec, value: Any) -> dict[str, InputSpec]:
    """Extra widgets a combo adds for its chosen value (VHS_VideoCombine's `format`).

    The combo's options carry `formats: {choice: [[name, type_or_choices, opts?, ...], ...]}`;
    VideoHelperSuite shows those widgets only for the chosen format. Treated as required,
    so a prompt states every encoder setting instead of relying on VHS's fallbacks.
    """
    formats = spec.options.get("formats")
    if not isinstance(formats, dict) or not isinstance(value, str):
        return {}
    widgets = formats.get(value)
    if not isinstance(widgets, list):
        return {}  # VHS_LoadVideo's `formats` are dicts of hints, not widgets
    out: dict[str, InputSpec] = {}
    for widget in widgets:
        if isinstance(widget, list) and widget and isinstance(widget[0], str):
            out[widget[0]] = parse_input(widget[0], list(widget[1:3]), True)
    return out


def choices(object_info: dict[str, Any], class_type: str, input_name: str) -> list[str]:
    """The allowed values of a combo input, e.g. `WanVideoSampler.scheduler` on a host.

    Raises `KeyError` when the class or input is absent and `ValueError` when the input is
    not a combo.
    """
    try:
        class_info = object_info[class_type]
    except KeyError:
        raise KeyError(f"node class {class_type} is not in the schema") from None
    spec = input_specs(class_info).get(input_name)
    if spec is None:
        raise KeyError(f"{class_type} has no input {input_name!r}")
    if spec.choices is None:
        raise ValueError(f"{class_type}.{input_name} is a {spec.type} input, not a combo")
    return [str(c) for c in spec.choices]


def _package_json(*parts: str) -> Any:
    node = resources.files("workflows")
    for part in parts:
        node = node.joinpath(part)
    return json.loads(node.read_text(encoding="utf-8"))


def bundled_object_info() -> dict[str, Any]:
    """The trimmed `/object_info` shipped with WanBot (a fresh copy on every call)."""
    data: dict[str, Any] = _package_json("schema", "object_info.json")
    return data


# Node classes the builder adds in code: the fast preset's LoRAs (`workflows.experts`), a
# long video's clip (`workflows.svi`), image to video on ComfyUI's own nodes
# (`workflows.native`) and Wan-Animate-2 (`workflows.animate2`).
# long video's clip (`workflows.svi`) and the graphs on ComfyUI's own nodes
# (`workflows.native*`).
ADDED_CLASSES = frozenset(
    {
        "WanVideoLoraSelect",
        "WanVideoSVIProEmbeds",
        "WanVideoEncode",
        "LoadLatent",
        "LatentCut",
        "SaveLatent",
        "UNETLoader",
        "LoraLoaderModelOnly",
        "ModelSamplingSD3",
        "CLIPLoader",
        "CLIPTextEncode",
        "VAELoader",
        "WanImageToVideo",
        "WanFirstLastFrameToVideo",
        "KSamplerAdvanced",
        "VAEDecode",
        "VAEDecodeTiled",
        "CreateVideo",
        "SaveVideo",
        "WanAnimate2ToVideo",
        "WanAnimate2Cache",
        "LoadVideo",
        "GetVideoComponents",
        "ImageScale",
        "ImageFromBatch",
        "ImageBatch",
        "CLIPVisionLoader",
        "CLIPVisionEncode",
        "KSamplerSelect",
        "BasicScheduler",
        "SamplerCustom",
        "TrimVideoLatent",
        # Talking and animating on ComfyUI's own nodes (`native_talk`, `native_animate`).
        "ModelPatchLoader",
        "AudioEncoderLoader",
        "AudioEncoderEncode",
        "WanInfiniteTalkToVideo",
        "WanAnimateToVideo",
        "KSampler",
        "BatchImagesNode",
        "RepeatImageBatch",
    }
)


def template_classes() -> set[str]:
    """Every node class a built prompt may use: the bundled templates' and `ADDED_CLASSES`."""
    folder = resources.files("workflows").joinpath("templates")
    classes: set[str] = set(ADDED_CLASSES)
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            template = json.loads(entry.read_text(encoding="utf-8"))
            classes.update(node["class_type"] for node in template.values())
    return classes


def trim_object_info(full: dict[str, Any], classes: Iterable[str]) -> dict[str, Any]:
    """The entries of `full` for `classes`, unchanged. Raises `KeyError` naming any absent."""
    wanted = sorted(set(classes))
    missing = [c for c in wanted if c not in full]
    if missing:
        raise KeyError(f"classes not in the full object_info: {', '.join(missing)}")
    return {name: full[name] for name in wanted}


def write_bundled(full_path: Path, out_path: Path | None = None) -> Path:
    """Regenerate the bundled schema from a full `/object_info` dump."""
    full = json.loads(full_path.read_text(encoding="utf-8"))
    trimmed = trim_object_info(full, template_classes())
    target = out_path or Path(__file__).with_name("schema") / "object_info.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    """`python -m workflows.schema FULL_OBJECT_INFO.json`: rewrite the bundled schema."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m workflows.schema FULL_OBJECT_INFO.json", file=sys.stderr)
        return 2
    print(f"wrote {write_bundled(Path(args[0]))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
