"""Async client for ComfyUI hosts: upload inputs, submit prompts, follow them, fetch videos.

Knows ComfyUI, not chat; usable on its own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from comfy.client import ComfyClient
    from comfy.errors import (
        AuthError,
        ComfyError,
        ExecutionFailed,
        ExecutionInterrupted,
        HostError,
        HostUnavailable,
        NotComfyUI,
        OutputMissing,
        PromptRejected,
    )
    from comfy.events import Cached, ComfyEvent, Executing, HistoryEntry, Progress, Started
    from comfy.outputs import OutputFile, pick_video, unique_upload_name

# Each name from its module, imported on first use: `comfy.errors` alone does not load
# aiohttp (`wanbot --help` stays fast).
_WHERE = {
    "ComfyClient": "client",
    **dict.fromkeys(
        [
            "AuthError",
            "ComfyError",
            "ExecutionFailed",
            "ExecutionInterrupted",
            "HostError",
            "HostUnavailable",
            "NotComfyUI",
            "OutputMissing",
            "PromptRejected",
        ],
        "errors",
    ),
    **dict.fromkeys(
        ["Cached", "ComfyEvent", "Executing", "HistoryEntry", "Progress", "Started"], "events"
    ),
    **dict.fromkeys(["OutputFile", "pick_video", "unique_upload_name"], "outputs"),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'comfy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"comfy.{module}"), name)


__all__ = [
    "AuthError",
    "Cached",
    "ComfyClient",
    "ComfyError",
    "ComfyEvent",
    "Executing",
    "ExecutionFailed",
    "ExecutionInterrupted",
    "HistoryEntry",
    "HostError",
    "HostUnavailable",
    "NotComfyUI",
    "OutputFile",
    "OutputMissing",
    "Progress",
    "PromptRejected",
    "Started",
    "pick_video",
    "unique_upload_name",
]
