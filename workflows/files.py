"""The files of one job, at every stage: one shape from the user's upload to the host's names.

A `FileSet[Path]` holds what the user sent (many pose or face images), the same job's
prepared files (one pose clip, one face clip), and a `FileSet[str]` the names the host gave
those files after upload, which the workflow builder binds to the loader nodes. `map` turns
one stage into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
U = TypeVar("U")


class FileSet(BaseModel, Generic[T]):
    """One job's input files. Which are required depends on the mode."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: T
    audio: T | None = None
    pose: list[T] = Field(default_factory=list)
    face: list[T] = Field(default_factory=list)
    background: T | None = None
    end: T | None = None  # image to video: the last frame
    latent: T | None = None  # a clip of a long video: the previous clip's last latent
    tail: T | None = None  # an SVI continuation of another video: its last frames

    def all(self) -> list[T]:
        """Every file, image first."""
        rest = (self.audio, self.background, self.end, self.latent, self.tail)
        return [self.image, *self.pose, *self.face, *(f for f in rest if f is not None)]

    def map(self, fn: Callable[[T], U]) -> FileSet[U]:
        """The same set with `fn` applied to each file (order: as `all`)."""
        return FileSet[U](
            image=fn(self.image),
            audio=None if self.audio is None else fn(self.audio),
            pose=[fn(f) for f in self.pose],
            face=[fn(f) for f in self.face],
            background=None if self.background is None else fn(self.background),
            end=None if self.end is None else fn(self.end),
            latent=None if self.latent is None else fn(self.latent),
            tail=None if self.tail is None else fn(self.tail),
        )
