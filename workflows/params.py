"""What a workflow generates: the mode, and the parameters its templates bind.

`bot.request` builds requests from these; `workflows.builder` reads any request that has the
shape of `GenerationRequest`, so `workflows/` never needs `bot/`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict


class Mode(StrEnum):
    I2V = "i2v"
    INFINITETALK = "infinitetalk"
    ANIMATE = "animate"
    ANIMATE2 = "animate2"  # Wan-Animate-2: a photo moved like a video, no pose step


QUALITY_CHOICES = ("standard", "fast")
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
    # Image to video: "standard" (Wan2.1 I2V 14B) or "fast" (Wan2.2 I2V A14B's two experts
    # with a step-distill LoRA); `split` is the step where the low-noise expert takes over.
    quality: str = "standard"
    split: int = 0
    # Image to video: seconds of a video made as a chain of clips (SVI 2.0 Pro); 0: one clip.
    length: float = 0.0
    # InfiniteTalk and WanAnimate: generation window length and overlap between windows.
    frame_window: int = 77
    motion_frame: int = 4
    # WanAnimate only.
    pose_strength: float = 1.0
    face_strength: float = 1.0
    color_match: str = "disabled"


class GenerationRequest(Protocol):
    """What `workflows.builder.build_prompt` reads from a request (`bot.request.JobRequest`)."""

    @property
    def mode(self) -> Mode: ...

    @property
    def prompt(self) -> str: ...

    @property
    def negative_prompt(self) -> str: ...

    @property
    def params(self) -> Params: ...
