"""The platform-neutral job request: what to make, from which files, with which parameters.

Front ends build a `JobRequest`; the CLI builds one from its arguments; the archive writes one
to JSON and reads it back to reproduce a result. `Mode` and `Params` live in
`workflows.params` (what a workflow binds) and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from workflows.files import FileSet
from workflows.params import COLOR_MATCH_CHOICES, Mode, Params

__all__ = ["COLOR_MATCH_CHOICES", "FileSet", "InputFiles", "JobRequest", "Mode", "Params"]


# What the user sent: the image, and for the other modes the speech, many pose or face
# images (or a clip, or a zip), and a background.
InputFiles = FileSet[Path]


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
