"""The platform-neutral job request: what to make, from which files, with which parameters.

Front ends build a `JobRequest`; the CLI builds one from its arguments; the archive writes one
to JSON and reads it back to reproduce a result. `Mode` and `Params` live in
`workflows.params` (what a workflow binds) and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workflows.files import FileSet
from workflows.params import COLOR_MATCH_CHOICES, QUALITY_CHOICES, Mode, Params

__all__ = [
    "COLOR_MATCH_CHOICES",
    "QUALITY_CHOICES",
    "Ask",
    "FileSet",
    "InputFiles",
    "JobRequest",
    "Mode",
    "Order",
    "Params",
    "Sender",
    "user_key",
]


# What the user sent: the image, and for the other modes the speech, many pose or face
# images (or a clip, or a zip), and a background.
InputFiles = FileSet[Path]


class Lineage(BaseModel):
    """What an extension continues: the earlier job and its archived video."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    video: Path
    # Continued with SVI (else from its last frame): from its last clip's latent (a long
    # video), or from its last frames (`tail`, a short video made when the job is prepared);
    # `clip` is the index its next clip has.
    svi: bool = False
    latent: Path | None = None
    tail: Path | None = None
    clip: int = 0


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
    # An extension: the clip continues this one's video and is delivered joined to it.
    extends: Lineage | None = None
    # One clip of a long video (`bot.chain`): its index, 0 first; None for a whole request.
    clip: int | None = None


@dataclass(frozen=True)
class Ask:
    """What a user asked for, as they typed it: checked and resolved by `bot.intake`."""

    mode: Mode
    prompt: str
    inputs: InputFiles
    overrides: dict[str, Any] = field(default_factory=dict)  # typed flag values (`bot.flags`)
    # The user's own defaults (`/settings`), typed like `overrides`, which win over them.
    user_defaults: dict[str, Any] = field(default_factory=dict)


def user_key(platform: str, user_id: str) -> str:
    """The "platform:user_id" form used for admins and per-user accounting."""
    return f"{platform}:{user_id}"


@dataclass(frozen=True)
class Sender:
    """Who asked, and in which chat (ids as the platform gives them, as text). `admin` is the
    front end's decision for this request (by id or, on Discord, by role): the engine then
    applies no caps or quotas and lets them act on anyone's job."""

    platform: str
    user_id: str
    chat_id: str
    admin: bool = False

    @property
    def user(self) -> str:
        return user_key(self.platform, self.user_id)


@dataclass(frozen=True)
class Order:
    """An `Ask` from a chat user: what a front end hands to `Engine.submit`.

    `reply_target` is the adapter's own JSON (message ids, threads); the engine stores it and
    gives it back with every event and the result.
    """

    ask: Ask
    sender: Sender
    reply_target: dict[str, Any] = field(default_factory=dict)
