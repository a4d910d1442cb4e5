"""Async client for ComfyUI hosts: upload inputs, submit prompts, follow them, fetch videos.

Knows ComfyUI, not chat; usable on its own.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `X as X`: re-exported for type checkers; `__getattr__` serves them
    from comfy.client import ComfyClient as ComfyClient
    from comfy.errors import AuthError as AuthError
    from comfy.errors import ComfyError as ComfyError
    from comfy.errors import ExecutionFailed as ExecutionFailed
    from comfy.errors import ExecutionInterrupted as ExecutionInterrupted
    from comfy.errors import HostError as HostError
    from comfy.errors import HostUnavailable as HostUnavailable
    from comfy.errors import NotComfyUI as NotComfyUI
    from comfy.errors import OutputMissing as OutputMissing
    from comfy.errors import PromptRejected as PromptRejected
    from comfy.events import Cached as Cached
    from comfy.events import ComfyEvent as ComfyEvent
    from comfy.events import Executing as Executing
    from comfy.events import HistoryEntry as HistoryEntry
    from comfy.events import Progress as Progress
    from comfy.events import Started as Started
    from comfy.outputs import OutputFile as OutputFile
    from comfy.outputs import pick_latent as pick_latent
    from comfy.outputs import pick_video as pick_video
    from comfy.outputs import unique_upload_name as unique_upload_name

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
    **dict.fromkeys(["OutputFile", "pick_latent", "pick_video", "unique_upload_name"], "outputs"),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'comfy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"comfy.{module}"), name)


__all__ = sorted(_WHERE)
