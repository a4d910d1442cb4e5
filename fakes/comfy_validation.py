"""Prompt validation the way ComfyUI's `execution.validate_prompt` does it, from `/object_info`.

Returns the same `error` / `node_errors` shapes ComfyUI sends with HTTP 400, so the client's
error handling is tested against the real wire format. Also lists the host's input folder in
the loaders' combos, as their `INPUT_TYPES` do. Facts from ComfyUI 0.33 (execution.py,
comfy_execution/validation.py, nodes.py) and VideoHelperSuite 1.7; the code is our own.
"""

from __future__ import annotations

import copy
import mimetypes
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

ANY_TYPES = {"*", "COMFY_MATCHTYPE_V3"}
# Loader inputs that list the input folder, and what each lists: core loaders filter by MIME
# type (LoadLatent by the ".latent" ending), VideoHelperSuite's by extension; "dir" is the
# folder's subfolders. Each node checks
# its value against the folder in VALIDATE_INPUTS, so ComfyUI skips the list check for them.
VHS_VIDEO = {"webm", "mp4", "mkv", "gif", "mov"}
VHS_AUDIO = {"mp3", "mp4", "wav", "ogg"}
INPUT_FOLDER: dict[tuple[str, str], tuple[str, str]] = {
    ("LoadImage", "image"): ("image", "Invalid image file"),
    ("LoadImageMask", "image"): ("image", "Invalid image file"),
    ("LoadAudio", "audio"): ("audio+video", "Invalid audio file"),
    ("LoadVideo", "file"): ("video", "Invalid video file"),
    ("VHS_LoadVideo", "video"): ("vhs-video", "Invalid video file"),
    ("VHS_LoadVideoFFmpeg", "video"): ("vhs-video", "Invalid video file"),
    ("VHS_LoadAudioUpload", "audio"): ("vhs-audio", "Invalid audio file"),
    ("VHS_LoadImages", "directory"): ("dir", "Invalid directory"),
    ("LoadLatent", "latent"): ("latent", "Invalid latent file"),
}


def lists(kind: str, name: str) -> bool:
    """Whether a loader of `kind` lists the top-level input file `name`."""
    suffix = PurePosixPath(name).suffix.lower().lstrip(".")
    if kind == "vhs-video":
        return suffix in VHS_VIDEO
    if kind == "vhs-audio":
        return suffix in VHS_AUDIO
    if kind == "latent":
        return name.endswith(".latent")  # case-sensitive, as in ComfyUI
    mime = mimetypes.guess_type(name, strict=False)[0] or ""
    return mime.split("/")[0] in kind.split("+")


def folder_listing(kind: str, files: Iterable[str]) -> set[str]:
    """What a loader of `kind` lists for an input folder holding `files` (relative paths)."""
    if kind == "dir":
        return {name.split("/")[0] for name in files if "/" in name}
    return {name for name in files if "/" not in name and lists(kind, name)}


def with_input_folder(object_info: dict[str, Any], files: Collection[str]) -> dict[str, Any]:
    """`object_info` as the host serves it with `files` in its input folder."""
    served = dict(object_info)
    for (class_type, name), (kind, _) in INPUT_FOLDER.items():
        info = object_info.get(class_type)
        spec = (info or {}).get("input", {}).get("required", {}).get(name)
        if not isinstance(spec, list) or not spec:
            continue
        listed = sorted(set(_options(spec)) | folder_listing(kind, files))
        if spec[0] == "COMBO":
            spec = ["COMBO", {**spec[1], "options": listed}]
        else:
            spec = [listed, *spec[1:]]
        inputs = {**info["input"], "required": {**info["input"]["required"], name: spec}}
        served[class_type] = {**info, "input": inputs}
    return served


def with_models(
    object_info: dict[str, Any], models: Iterable[str], loras: Iterable[str] = ()
) -> dict[str, Any]:
    """`object_info` as a host with these extra files in `models/diffusion_models` and
    `models/loras` serves it (the real dump lists only placeholder models and no LoRA)."""
    return with_files(
        object_info,
        {("WanVideoModelLoader", "model"): models, ("WanVideoLoraSelect", "lora"): loras},
    )


def core_only(object_info: dict[str, Any]) -> dict[str, Any]:
    """`object_info` as a ComfyUI without custom node packs serves it (its core classes)."""
    return {
        name: info
        for name, info in object_info.items()
        if not str(info.get("python_module", "")).startswith("custom_nodes")
    }


def with_files(
    object_info: dict[str, Any], files: dict[tuple[str, str], Iterable[str]]
) -> dict[str, Any]:
    """`object_info` with extra file names in the lists of (class, input) loaders, as a host
    with those files serves it."""
    served = copy.deepcopy(object_info)
    for (class_type, name), extra in files.items():
        spec = served.get(class_type, {}).get("input", {}).get("required", {}).get(name)
        if not isinstance(spec, list) or not spec:
            continue
        listed = sorted(set(_options(spec)) | set(extra))
        if spec[0] == "COMBO":
            spec[1] = {**spec[1], "options": listed}
        else:
            spec[0] = listed
    return served


def _options(spec: list[Any]) -> list[Any]:
    if spec[0] == "COMBO":
        return list(spec[1].get("options", [])) if len(spec) > 1 else []
    return list(spec[0]) if isinstance(spec[0], list) else []


@dataclass
class Verdict:
    ok: bool
    error: dict[str, Any] | None = None
    outputs: list[str] = field(default_factory=list)
    node_errors: dict[str, Any] = field(default_factory=dict)


def validate_prompt(
    prompt: dict[str, Any], object_info: dict[str, Any], uploaded: Collection[str] = ()
) -> Verdict:
    outputs: list[str] = []
    for node_id, node in prompt.items():
        class_type = node.get("class_type") if isinstance(node, dict) else None
        if class_type not in object_info:
            title = (node.get("_meta") or {}).get("title", class_type) if class_type else None
            message = (
                f"Node '{title}' not found. The custom node may not be installed."
                if class_type
                else f"Node 'ID #{node_id}' has no class_type."
            )
            error = _error("missing_node_type", message, f"Node ID '#{node_id}'")
            error["extra_info"] = {
                "node_id": node_id,
                "class_type": class_type,
                "node_title": title,
            }
            return Verdict(False, error)
        if object_info[class_type].get("output_node"):
            outputs.append(node_id)
    if not outputs:
        return Verdict(False, _error("prompt_no_outputs", "Prompt has no outputs", ""))
    checker = _Checker(prompt, object_info, set(uploaded))
    node_errors: dict[str, Any] = {}
    good: list[str] = []
    lines: list[str] = []
    for output in outputs:
        if checker.check(output):
            good.append(output)
            continue
        for node_id, reasons in checker.failures.items():
            if not reasons:
                continue
            entry = node_errors.setdefault(
                node_id,
                {
                    "errors": reasons,
                    "dependent_outputs": [],
                    "class_type": prompt[node_id]["class_type"],
                },
            )
            entry["dependent_outputs"].append(output)
        lines += [f"{r['message']}: {r['details']}" for r in checker.failures.get(output, [])]
    if not good:
        error = _error(
            "prompt_outputs_failed_validation", "Prompt outputs failed validation", "\n".join(lines)
        )
        return Verdict(False, error, [], node_errors)
    return Verdict(True, None, good, node_errors)


class _Checker:
    def __init__(self, prompt: dict[str, Any], info: dict[str, Any], uploaded: set[str]) -> None:
        self.prompt, self.info, self.uploaded = prompt, info, uploaded
        self.results: dict[str, bool] = {}
        self.failures: dict[str, list[dict[str, Any]]] = {}

    def check(self, node_id: str) -> bool:
        if node_id in self.results:
            return self.results[node_id]
        self.results[node_id] = True  # provisional; cycles are not modelled
        node = self.prompt[node_id]
        schema = self.info[node["class_type"]]["input"]
        errors: list[dict[str, Any]] = []
        valid = True
        for category, specs in _categories(schema).items():
            for name, spec in specs.items():
                if name not in node.get("inputs", {}):
                    if category == "required" and not _is_dynamic(spec):
                        errors.append(
                            _input_error(
                                "required_input_missing", "Required input is missing", name, name
                            )
                        )
                    continue
                problem = self._check_input(node, name, spec)
                if problem is False:
                    valid = False
                elif problem is not None:
                    errors.append(problem)
        ok = valid and not errors
        self.results[node_id] = ok
        if errors:
            self.failures[node_id] = errors
        return ok

    def _check_input(
        self, node: dict[str, Any], name: str, spec: Any
    ) -> dict[str, Any] | bool | None:
        value = node["inputs"][name]
        input_type = spec[0] if isinstance(spec, list) else spec
        extra = (
            spec[1]
            if isinstance(spec, list) and len(spec) > 1 and isinstance(spec[1], dict)
            else {}
        )
        if isinstance(value, list):
            return self._check_link(name, value, input_type)
        if input_type in ("INT", "FLOAT"):
            try:
                value = int(value) if input_type == "INT" else float(value)
            except (TypeError, ValueError) as exc:
                return _input_error(
                    "invalid_input_type",
                    f"Failed to convert an input value to a {input_type} value",
                    f"{name}, {value}, {exc}",
                    name,
                    received_value=value,
                )
            if "min" in extra and value < extra["min"]:
                return _input_error(
                    "value_smaller_than_min",
                    f"Value {value} smaller than min of {extra['min']}",
                    name,
                    name,
                    received_value=value,
                )
            if "max" in extra and value > extra["max"]:
                return _input_error(
                    "value_bigger_than_max",
                    f"Value {value} bigger than max of {extra['max']}",
                    name,
                    name,
                    received_value=value,
                )
        folder = INPUT_FOLDER.get((node["class_type"], name))
        if folder is not None:
            return self._check_input_file(name, value, input_type, extra, folder[1])
        options = self._combo_options(input_type, extra)
        if options is not None and value not in options:
            shown = f"(list of length {len(options)})" if len(options) > 20 else str(list(options))
            return _input_error(
                "value_not_in_list",
                "Value not in list",
                f"{name}: {value!r} not in {shown}",
                name,
                received_value=value,
            )
        return None

    def _check_link(
        self, name: str, link: list[Any], input_type: Any
    ) -> dict[str, Any] | bool | None:
        if len(link) != 2:
            return _input_error(
                "bad_linked_input",
                "Bad linked input, must be a length-2 list of [node_id, slot_index]",
                name,
                name,
                received_value=link,
            )
        source_id, slot = str(link[0]), link[1]
        source = self.prompt.get(source_id)
        returns = self.info[source["class_type"]]["output"] if source else []
        if source is None or not isinstance(slot, int) or not 0 <= slot < len(returns):
            return _input_error(
                "exception_during_inner_validation",
                "Exception when validating inner node",
                f"'{source_id}'",
                name,
                linked_node=link,
            )
        received = returns[slot]
        if not _types_match(received, input_type):
            return _input_error(
                "return_type_mismatch",
                "Return type mismatch between linked nodes",
                f"{name}, received_type({received}) mismatch input_type({input_type})",
                name,
                received_type=received,
                linked_node=link,
            )
        return None if self.check(source_id) else False

    def _check_input_file(
        self, name: str, value: Any, input_type: Any, extra: dict[str, Any], invalid: str
    ) -> dict[str, Any] | None:
        """The loader's VALIDATE_INPUTS: the value must be in the host's input folder."""
        present = set(self.uploaded) | set(self._combo_options(input_type, extra) or ())
        if isinstance(value, str) and (
            value in present or any(f.startswith(f"{value}/") for f in self.uploaded)
        ):
            return None
        return _input_error(
            "custom_validation_failed",
            "Custom validation failed for node",
            f"{name} - {invalid}: {value}",
            name,
        )

    @staticmethod
    def _combo_options(input_type: Any, extra: dict[str, Any]) -> list[Any] | None:
        if isinstance(input_type, list):
            return list(input_type)
        if input_type == "COMBO":
            return list(extra.get("options", []))
        if input_type == "COMFY_DYNAMICCOMBO_V3":
            return [option.get("key") for option in extra.get("options", [])]
        return None


def _categories(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A class's required and optional inputs, each autogrow input (BatchImagesNode's
    `images`) as the inputs a prompt gives it, `images.image0` and on, as ComfyUI checks them:
    the first `min` required, the rest optional."""
    grown: dict[str, dict[str, Any]] = {"required": {}, "optional": {}}
    for category in grown:
        for name, spec in (schema.get(category) or {}).items():
            template = spec[1].get("template", {}) if _is_dynamic(spec) and len(spec) > 1 else {}
            inner = list(template.get("input", {}).get("required", {}).values())
            if len(inner) != 1:
                grown[category][name] = spec
                continue
            low = template.get("min", 0) if category == "required" else 0
            for index in range(template.get("max", 0)):
                kind = "required" if index < low else "optional"
                grown[kind][f"{name}.{template.get('prefix', '')}{index}"] = inner[0]
    return grown


def _is_dynamic(spec: Any) -> bool:
    return isinstance(spec, list) and spec[:1] == ["COMFY_AUTOGROW_V3"]


def _types_match(received: Any, expected: Any) -> bool:
    if received == expected:
        return True
    if not isinstance(received, str) or not isinstance(expected, str):
        return isinstance(received, list) and expected == "COMBO"
    got = {t.strip() for t in received.split(",")}
    want = {t.strip() for t in expected.split(",")}
    return bool(got & ANY_TYPES or want & ANY_TYPES or got & want)


def _error(kind: str, message: str, details: str) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": {}}


def _input_error(kind: str, message: str, details: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "message": message,
        "details": details,
        "extra_info": {"input_name": name, **extra},
    }
