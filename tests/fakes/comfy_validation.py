"""Prompt validation the way ComfyUI's `execution.validate_prompt` does it, from `/object_info`.

Returns the same `error` / `node_errors` shapes ComfyUI sends with HTTP 400, so the client's
error handling is tested against the real wire format. Facts from ComfyUI 0.33 (execution.py,
comfy_execution/validation.py); the code is our own.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

ANY_TYPES = {"*", "COMFY_MATCHTYPE_V3"}
# Inputs whose combo lists are the host's input folder: uploaded files are valid values.
FILE_COMBO_FLAGS = ("image_upload", "audio_upload", "video_upload")
FILE_COMBOS = {("VHS_LoadVideo", "video"), ("LoadVideo", "file")}


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
        for category in ("required", "optional"):
            for name, spec in (schema.get(category) or {}).items():
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
        options = self._combo_options(node["class_type"], name, input_type, extra)
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

    def _combo_options(
        self, class_type: str, name: str, input_type: Any, extra: dict[str, Any]
    ) -> list[Any] | None:
        if isinstance(input_type, list):
            options = list(input_type)
        elif input_type == "COMBO":
            options = list(extra.get("options", []))
        elif input_type == "COMFY_DYNAMICCOMBO_V3":
            options = [option.get("key") for option in extra.get("options", [])]
        else:
            return None
        if any(extra.get(flag) for flag in FILE_COMBO_FLAGS) or (class_type, name) in FILE_COMBOS:
            options += sorted(self.uploaded)
        return options


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
