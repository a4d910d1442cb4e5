"""The platform-neutral job request: what to make, from which files, with which parameters.

Front ends build a `JobRequest`; the CLI builds one from its arguments; the archive writes one
to JSON and reads it back to reproduce a result.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Mode(StrEnum):
    I2V = "i2v"
    INFINITETALK = "infinitetalk"
    ANIMATE = "animate"


COLOR_MATCH_CHOICES = ("disabled", "mkl", "hm", "reinhard", "mvgd", "hm-mvgd-hm", "hm-mkl-hm")


class Params(BaseModel):
    """Fully resolved generation parameters (every value set, validated, rounded)."""

    model_config = ConfigDict(extra="forbid")

    width: int
    height: int
    size_from_user: bool = False
    frames: int
    steps: int
    cfg: float
    shift: float
    seed: int
    scheduler: str
    denoise: float
    fps: float
    # InfiniteTalk and WanAnimate: generation window length and overlap between windows.
    frame_window: int = 77
    motion_frame: int = 4
    # WanAnimate only.
    pose_strength: float = 1.0
    face_strength: float = 1.0
    color_match: str = "disabled"


class InputFiles(BaseModel):
    """Local paths of the files a job needs. Which are required depends on the mode."""

    model_config = ConfigDict(extra="forbid")

    image: Path
    audio: Path | None = None
    pose: list[Path] = Field(default_factory=list)
    face: list[Path] = Field(default_factory=list)
    background: Path | None = None

    def all_paths(self) -> list[Path]:
        paths = [self.image, *self.pose, *self.face]
        paths += [p for p in (self.audio, self.background) if p is not None]
        return paths


class JobRequest(BaseModel):
    """One generation request, independent of the chat platform it came from."""

    model_config = ConfigDict(extra="forbid")

    mode: Mode
    prompt: str
    negative_prompt: str
    params: Params
    inputs: InputFiles
    # Human-readable notes about adjustments made to the request (rounding, cut audio).
    notes: list[str] = Field(default_factory=list)
