"""Check an API-format prompt against a host's `/object_info` before submitting it.

ComfyUI answers a bad prompt with a terse `node_errors` blob after the upload; checking first
lets WanBot say exactly which node, input and model file is wrong, and refuse early.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from workflows.schema import (
    WIDGET_TYPES,
    InputSpec,
    autogrow_inputs,
    choices,
    format_widgets,
    hidden_inputs,
    input_specs,
    is_model_file,
    names_input_file,
)

__all__ = [
    "Problem",
    "WorkflowError",
    "WorkflowInvalid",
    "check_prompt",
    "choices",
    "validate_prompt",
]

MATCHTYPE = "COMFY_MATCHTYPE_V3"
_MAX_LISTED = 12


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a prompt; `str()` is a readable one-line report."""

    node_id: str
    class_type: str
    input_name: str | None
    message: str

    def __str__(self) -> str:
        if not self.node_id:
            return self.message
        where = f"node {self.node_id} ({self.class_type})"
        if self.input_name is not None:
            where += f" input '{self.input_name}'"
        return f"{where}: {self.message}"


class WorkflowError(Exception):
    """Base of every error raised by `workflows`."""


class WorkflowInvalid(WorkflowError):
    """A prompt does not fit the host's schema; `problems` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"workflow has {len(self.problems)} problem(s):\n{lines}")


def is_link(value: Any) -> bool:
    """API-format links are `[source_node_id, output_index]`."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def types_compatible(received: str, expected: str) -> bool:
    """ComfyUI's rule: `*` matches anything; comma lists match when they share a type."""
    if received == "*" or expected == "*":
        return True
    got = {t.strip() for t in received.split(",")}
    want = {t.strip() for t in expected.split(",")}
    return "*" in got or "*" in want or bool(got & want)


def _listing(values: Collection[Any]) -> str:
    shown = [repr(v) if not isinstance(v, str) else v for v in list(values)[:_MAX_LISTED]]
    more = len(values) - len(shown)
    text = ", ".join(shown) if shown else "(none)"
    return text + (f" and {more} more" if more > 0 else "")


class _Checker:
    def __init__(
        self,
        prompt: dict[str, Any],
        object_info: dict[str, Any],
        uploaded_files: Collection[str] | None,
        model_files: bool = True,
    ) -> None:
        self.prompt = prompt
        self.info = object_info
        self.uploaded = uploaded_files
        self.model_files = model_files
        self.problems: list[Problem] = []

    def add(self, node_id: str, class_type: str, name: str | None, message: str) -> None:
        self.problems.append(Problem(node_id, class_type, name, message))

    def run(self) -> list[Problem]:
        has_output = False
        for node_id, node in self.prompt.items():
            if not isinstance(node, dict) or not isinstance(node.get("class_type"), str):
                self.add(str(node_id), "?", None, "node has no class_type")
                continue
            class_info = self.info.get(node["class_type"])
            if class_info is None:
                self.add(
                    node_id,
                    node["class_type"],
                    None,
                    f"node class {node['class_type']} is not installed on the host "
                    "(custom node pack missing?)",
                )
                continue
            has_output = has_output or bool(class_info.get("output_node"))
            self.check_node(node_id, node, class_info)
        if self.prompt and not has_output:
            self.add("", "", None, "the prompt has no output node, so ComfyUI would run nothing")
        return self.problems

    def check_node(self, node_id: str, node: dict[str, Any], class_info: dict[str, Any]) -> None:
        class_type: str = node["class_type"]
        inputs = node.get("inputs", {})
        if not isinstance(inputs, dict):
            self.add(node_id, class_type, None, "inputs must be an object")
            return
        specs = {
            name: grown
            for spec in input_specs(class_info).values()
            for name, grown in autogrow_inputs(spec).items()
        }
        for spec in list(specs.values()):
            if spec.choices is not None and spec.name in inputs:
                specs.update(format_widgets(spec, inputs[spec.name]))
        for name, spec in specs.items():
            if spec.required and inputs.get(name) is None:
                self.add(node_id, class_type, name, "required input is missing")
        hidden = hidden_inputs(class_info)
        for name, value in inputs.items():
            spec_or_none = specs.get(name)
            if spec_or_none is None:
                if name not in hidden:
                    known = _listing(sorted(specs))
                    self.add(node_id, class_type, name, f"unknown input; known inputs: {known}")
                continue
            if value is None:
                continue
            if is_link(value):
                self.check_link(node_id, class_type, spec_or_none, value)
            else:
                self.check_value(node_id, class_type, spec_or_none, value)

    def check_link(self, node_id: str, class_type: str, spec: InputSpec, link: list[Any]) -> None:
        source_id, index = link
        source = self.prompt.get(source_id)
        if not isinstance(source, dict):
            self.add(node_id, class_type, spec.name, f"links to node {source_id}, which is absent")
            return
        source_info = self.info.get(source.get("class_type", ""))
        if source_info is None:
            return  # reported on the source node itself
        outputs = source_info.get("output", [])
        if not 0 <= index < len(outputs):
            self.add(
                node_id,
                class_type,
                spec.name,
                f"links to output {index} of node {source_id} ({source['class_type']}), "
                f"which has {len(outputs)} output(s)",
            )
            return
        received = self.output_type(source_id, index, depth=0)
        expected = self.input_type(spec)
        if not types_compatible(received, expected):
            self.add(
                node_id,
                class_type,
                spec.name,
                f"expects {expected} but is linked to {received} "
                f"(output {index} of node {source_id}, {source['class_type']})",
            )

    @staticmethod
    def input_type(spec: InputSpec) -> str:
        if spec.type == MATCHTYPE:
            return str(spec.options.get("template", {}).get("allowed_types", "*"))
        return spec.type

    def output_type(self, node_id: str, index: int, depth: int) -> str:
        """The type a node's output carries, following match-type templates upstream."""
        node = self.prompt[node_id]
        class_info = self.info[node["class_type"]]
        kind = class_info["output"][index]
        if isinstance(kind, list):
            return "COMBO"
        if kind != MATCHTYPE or depth > 32:
            return str(kind) if kind != MATCHTYPE else "*"
        template_id = (class_info.get("output_matchtypes") or [None] * (index + 1))[index]
        allowed = "*"
        for spec in input_specs(class_info).values():
            template = spec.options.get("template", {})
            if spec.type != MATCHTYPE or template.get("template_id") != template_id:
                continue
            allowed = str(template.get("allowed_types", "*"))
            value = node.get("inputs", {}).get(spec.name)
            if is_link(value) and value[0] in self.prompt:
                source_info = self.info.get(self.prompt[value[0]].get("class_type", ""))
                if source_info and 0 <= value[1] < len(source_info.get("output", [])):
                    return self.output_type(value[0], value[1], depth + 1)
        return allowed

    def check_value(self, node_id: str, class_type: str, spec: InputSpec, value: Any) -> None:
        if spec.choices is not None:
            self.check_combo(node_id, class_type, spec, value)
        elif spec.type in WIDGET_TYPES:
            message = _widget_problem(spec, value)
            if message:
                self.add(node_id, class_type, spec.name, message)
        elif spec.type.startswith("COMFY_"):
            return  # dynamic V3 inputs (autogrow, dynamic combos): not checked here
        else:
            self.add(
                node_id,
                class_type,
                spec.name,
                f"expects a link to a {spec.type} output, got the value {value!r}",
            )

    def check_combo(self, node_id: str, class_type: str, spec: InputSpec, value: Any) -> None:
        allowed = spec.choices or ()
        if names_input_file(class_type, spec):
            if not isinstance(value, str) or not value:
                self.add(node_id, class_type, spec.name, "needs the name of an uploaded file")
            elif not self.in_input_folder(value, allowed):
                uploaded = sorted(self.uploaded or ())
                self.add(
                    node_id,
                    class_type,
                    spec.name,
                    f"file '{value}' was not uploaded to the host; uploaded: {_listing(uploaded)}",
                )
            return
        if value in allowed:
            return
        model = spec.is_model_combo or is_model_file(value)
        if model and not self.model_files and isinstance(value, str) and value:
            return  # taken as given: only the host it runs on can say
        if model:
            message = (
                f"model file '{value}' for {class_type}.{spec.name} is not on the host; "
                f"available: {_listing(allowed)}"
            )
        else:
            message = f"value {value!r} is not allowed; choose one of: {_listing(allowed)}"
        self.add(node_id, class_type, spec.name, message)

    def in_input_folder(self, value: str, listed: Collection[Any]) -> bool:
        """Listed by the host, or uploaded (a folder counts when a file was uploaded into it).

        Without an upload list any name passes: the files are uploaded after this check.
        """
        if self.uploaded is None or value in listed or value in self.uploaded:
            return True
        return any(name.startswith(f"{value}/") for name in self.uploaded)


def _widget_problem(spec: InputSpec, value: Any) -> str | None:
    """Why `value` does not fit a widget input, or None when it does."""
    kind = spec.type
    if kind == "BOOLEAN":
        return None if isinstance(value, bool) else f"expects true or false, got {value!r}"
    if kind == "STRING":
        return None if isinstance(value, str) else f"expects a string, got {value!r}"
    numeric = (int,) if kind == "INT" else (int, float)
    if isinstance(value, bool) or not isinstance(value, numeric):
        return f"expects {'an integer' if kind == 'INT' else 'a number'}, got {value!r}"
    low, high = spec.options.get("min"), spec.options.get("max")
    if low is not None and value < low:
        return f"{value!r} is below the minimum {low!r}"
    if high is not None and value > high:
        return f"{value!r} is above the maximum {high!r}"
    return None


def validate_prompt(
    prompt: dict[str, Any],
    object_info: dict[str, Any],
    *,
    uploaded_files: Collection[str] | None = None,
    model_files: bool = True,
) -> list[Problem]:
    """Every problem found in `prompt` against `object_info`; empty when it looks valid.

    Checks node classes, required/unknown inputs (including VHS format widgets), link targets
    and types, combo choices (naming missing model files, unless `model_files` is False: then
    any model file name is taken as given), widget types and ranges, and, when
    `uploaded_files` is given, that file inputs name uploaded files.
    """
    return _Checker(prompt, object_info, uploaded_files, model_files).run()


def check_prompt(
    prompt: dict[str, Any],
    object_info: dict[str, Any],
    *,
    uploaded_files: Collection[str] | None = None,
    model_files: bool = True,
) -> None:
    """Raise `WorkflowInvalid` listing every problem, if there are any (see `validate_prompt`)."""
    problems = validate_prompt(
        prompt, object_info, uploaded_files=uploaded_files, model_files=model_files
    )
    if problems:
        raise WorkflowInvalid(problems)
