"""Async client for ComfyUI hosts: upload inputs, submit prompts, follow them, fetch videos.

Knows ComfyUI, not chat; usable on its own.
"""

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
