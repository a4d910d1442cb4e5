"""The platform-neutral job request: what to make, from which files, with which parameters.

Front ends build a `JobRequest`; the CLI builds one from its arguments; the archive writes one
to JSON and reads it back to reproduce a result. `Mode` and `Params` live in
`workflows.params` (what a workflow binds) and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workflows.params import COLOR_MATCH_CHOICES, Mode, Params

__all__ = ["COLOR_MATCH_CHOICES", "InputFiles", "JobRequest", "Mode", "Params"]


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
