"""Long videos' clip chains in the fake ComfyUI: which clip an SVI prompt makes, and its latents.

An SVI prompt (one with `WanVideoSVIProEmbeds`) makes clip 0 when it has no `LoadLatent`, else
the clip after the one whose latent it loads. The fake's `SaveLatent` writes a real safetensors
file shaped like ComfyUI's (`latent_tensor`, `latent_format_version_0`, the prompt in the
metadata) whose metadata also records the clip number and the sampler's seed, so the next clip,
and a test, can read them back. Its video shows the clip number (`fakes.media` clip marks).
A `LoadLatent` file the fake cannot read fails at run time, as safetensors fails in ComfyUI.
Facts from ComfyUI 0.33 (nodes.py SaveLatent / LoadLatent) and the safetensors format.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SVI_CLASS = "WanVideoSVIProEmbeds"
RECORD_KEY = "wanbot_fake_clip"  # the fake's own entry in the safetensors metadata
SAFETENSORS_ERROR = "safetensors_rust.SafetensorError"


@dataclass(frozen=True)
class ClipRecord:
    """What a fake latent file records: the clip that saved it and that clip's seed."""

    clip: int
    seed: int | None


class LatentUnreadable(Exception):
    """A `LoadLatent` file the fake cannot load; `kind` is the exception type ComfyUI reports."""

    def __init__(self, message: str, kind: str = SAFETENSORS_ERROR) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class ClipPlan:
    """What an SVI prompt makes: clip `clip`, or a failure at node `load_node` at run time."""

    clip: int
    load_node: str | None = None
    failure: LatentUnreadable | None = None


def plan_clip(prompt: dict[str, Any], uploads: Mapping[str, bytes]) -> ClipPlan | None:
    """The clip an SVI prompt makes from the files in the input folder; None if not SVI."""
    if not any(node.get("class_type") == SVI_CLASS for node in prompt.values()):
        return None
    loads = sorted(k for k, node in prompt.items() if node.get("class_type") == "LoadLatent")
    if not loads:
        return ClipPlan(0)
    name = prompt[loads[0]].get("inputs", {}).get("latent")
    data = uploads.get(name) if isinstance(name, str) else None
    try:
        if data is None:  # only if the input folder changed after validation
            raise LatentUnreadable(f"No such file or directory: {name!r}", "FileNotFoundError")
        return ClipPlan(read_latent(data).clip + 1, loads[0])
    except LatentUnreadable as failure:
        return ClipPlan(0, loads[0], failure)


def sampler_seed(prompt: dict[str, Any], node_id: str) -> int | None:
    """The seed of the nearest node upstream of `node_id` that has one (the sampler)."""
    queue, seen = [node_id], {node_id}
    while queue:
        inputs = prompt.get(queue.pop(0), {}).get("inputs", {})
        seed = inputs.get("seed", inputs.get("noise_seed"))
        if isinstance(seed, int) and not isinstance(seed, bool):
            return seed
        for value in inputs.values():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) not in seen:
                seen.add(str(value[0]))
                queue.append(str(value[0]))
    return None


def latent_bytes(
    record: ClipRecord, prompt: dict[str, Any], width: int = 64, height: int = 48
) -> bytes:
    """A `.latent` file as SaveLatent writes it (one Wan latent of zeros for a `width` x
    `height` video), with `record` in its metadata."""
    shape = [1, 16, 1, max(1, height // 8), max(1, width // 8)]
    size = 4 * shape[1] * shape[3] * shape[4]
    header = {
        "__metadata__": {
            "prompt": json.dumps(prompt),
            RECORD_KEY: json.dumps({"clip": record.clip, "seed": record.seed}),
        },
        "latent_tensor": {"dtype": "F32", "shape": shape, "data_offsets": [0, size]},
        "latent_format_version_0": {"dtype": "F32", "shape": [0], "data_offsets": [size, size]},
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # safetensors pads the header to 8 bytes
    return struct.pack("<Q", len(text)) + text + bytes(size)


def read_latent(data: bytes) -> ClipRecord:
    """The record in a `.latent` file the fake saved; `LatentUnreadable` otherwise."""
    if len(data) < 8:
        raise LatentUnreadable("Error while deserializing header: HeaderTooSmall")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise LatentUnreadable("Error while deserializing header: HeaderTooLarge")
    try:
        header = json.loads(data[8 : 8 + length])
        metadata = header.get("__metadata__") or {}
        if "latent_tensor" not in header:
            raise LatentUnreadable("'latent_tensor'", "KeyError")
        fields = json.loads(metadata[RECORD_KEY])
        return ClipRecord(int(fields["clip"]), fields.get("seed"))
    except (ValueError, AttributeError) as exc:
        message = "Error while deserializing header: InvalidHeaderDeserialization"
        raise LatentUnreadable(message) from exc
    except (KeyError, TypeError) as exc:
        message = "the fake ComfyUI cannot tell which clip saved this latent"
        raise LatentUnreadable(message, "fakes.UnknownLatent") from exc
