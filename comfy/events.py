"""Progress events of one prompt, as delivered to `ComfyClient.follow`'s callback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Started:
    """`execution_start`: the host began running the prompt."""

    prompt_id: str


@dataclass(frozen=True, slots=True)
class Cached:
    """`execution_cached`: these nodes' outputs were reused from the host's cache."""

    prompt_id: str
    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Executing:
    """`executing`: the host moved on to `node`."""

    prompt_id: str
    node: str


@dataclass(frozen=True, slots=True)
class Progress:
    """`progress`: step `value` of `max` in `node` (usually the sampler)."""

    prompt_id: str
    value: int
    max: int
    node: str | None


@dataclass(frozen=True, slots=True)
class Preview:
    """A preview image of what the sampler is making (JPEG or PNG bytes)."""

    prompt_id: str
    image: bytes
    mime: str


ComfyEvent = Started | Cached | Executing | Progress | Preview

HistoryEntry = dict[str, Any]


def parse_event(kind: str, data: dict[str, Any]) -> ComfyEvent | None:
    """The public event for one websocket message, or None for messages callers don't see."""
    prompt_id = str(data.get("prompt_id") or "")
    if kind == "execution_start":
        return Started(prompt_id)
    if kind == "execution_cached":
        return Cached(prompt_id, tuple(str(n) for n in data.get("nodes") or ()))
    if kind == "executing" and data.get("node") is not None:
        return Executing(prompt_id, str(data["node"]))
    if kind == "preview":  # made by the listener from a binary frame
        return Preview(prompt_id, bytes(data["image"]), str(data["mime"]))
    if kind == "progress":
        node = data.get("node")
        return Progress(
            prompt_id, int(data["value"]), int(data["max"]), None if node is None else str(node)
        )
    return None
