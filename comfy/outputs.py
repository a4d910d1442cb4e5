"""Finding the video a finished prompt produced, and naming uploads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from comfy.errors import OutputMissing

VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".gif", ".webp")


@dataclass(frozen=True, slots=True)
class OutputFile:
    """A file ComfyUI serves through `GET /view`."""

    filename: str
    subfolder: str = ""
    type: str = "output"
    format: str | None = None
    fullpath: str | None = None

    @property
    def has_audio(self) -> bool:
        """VideoHelperSuite names the muxed copy `<prefix>_00001-audio.<ext>`."""
        return PurePath(self.filename).stem.endswith("-audio")


def unique_upload_name(original: str, prefix: str = "wanbot") -> str:
    """A collision-proof upload name that keeps the original's extension."""
    suffix = PurePath(original).suffix.lower()
    return f"{prefix}_{uuid.uuid4().hex}{suffix}"


def pick_video(entry: dict[str, Any]) -> OutputFile:
    """The video in a `/history` entry, preferring a file with audio.

    Knows VideoHelperSuite's `VHS_VideoCombine` (`{"gifs": [...]}`, two files when audio is
    attached) and core `SaveVideo` (`{"images": [...], "animated": [true]}`).

    Raises `OutputMissing` when there is none.
    """
    candidates: list[OutputFile] = []
    outputs = entry.get("outputs") or {}
    for node_output in outputs.values():
        if not isinstance(node_output, dict):
            continue
        for item in node_output.get("gifs") or []:
            candidates.append(_output_file(item))
        animated = any(bool(flag) for flag in node_output.get("animated") or [])
        for item in node_output.get("images") or []:
            file = _output_file(item)
            if animated or file.filename.lower().endswith(VIDEO_SUFFIXES):
                candidates.append(file)
    videos = [file for file in candidates if _is_video(file)]
    if not videos:
        raise OutputMissing("the prompt finished but produced no video output")
    with_audio = [file for file in videos if file.has_audio]
    return (with_audio or videos)[-1]


def pick_latent(entry: dict[str, Any]) -> OutputFile:
    """The latent file a `/history` entry lists (core `SaveLatent`: `{"latents": [...]}`);
    the last one where there are several. Raises `OutputMissing` when there is none."""
    found = [
        _output_file(item)
        for node_output in (entry.get("outputs") or {}).values()
        if isinstance(node_output, dict)
        for item in node_output.get("latents") or []
    ]
    if not found:
        raise OutputMissing("the prompt finished but saved no latent")
    return found[-1]


def _output_file(item: dict[str, Any]) -> OutputFile:
    return OutputFile(
        filename=str(item["filename"]),
        subfolder=str(item.get("subfolder") or ""),
        type=str(item.get("type") or "output"),
        format=item.get("format"),
        fullpath=item.get("fullpath"),
    )


def _is_video(file: OutputFile) -> bool:
    if file.format:
        return file.format.startswith(("video/", "image/gif", "image/webp"))
    return file.filename.lower().endswith(VIDEO_SUFFIXES)
