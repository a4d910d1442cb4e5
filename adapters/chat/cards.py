"""The job card that follows a job, on any platform: one message per job (or one per batch),
edited through `CardEditor` as the engine's events come, "done" once the video is sent.

While a job may still be stopped (queued, started, generating), its own card carries a Stop
button and shows the newest preview the engine sends; a batch's shared card carries neither
(its jobs are stopped with `/cancel`).

A platform subclasses `JobCards` with where a job's card is (`existing_card`, `group_card`),
how to post a new one (`post_card`) and what to drop when a job ends (`forget`).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Hashable
from typing import Generic, TypeVar

from adapters.chat import texts
from adapters.chat.edits import CardEditor, Face, Picture
from adapters.chat.markup import Markup
from bot.frontend import (
    GroupCards,
    Job,
    JobAccepted,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobPreview,
    JobProgress,
    JobStarted,
    PositionChanged,
    fit,
)

K = TypeVar("K", bound=Hashable)
FINAL = (JobFinished, JobFailed, JobCancelled)
STOPPABLE = (JobAccepted, PositionChanged, JobStarted, JobProgress)


class JobCards(ABC, Generic[K]):
    """Keeps each job's card up to date (the `on_event` half of a `FrontEnd`)."""

    def __init__(self, editor: CardEditor[K], markup: Markup, limit: int) -> None:
        self.editor = editor
        self.markup = markup
        self.limit = limit  # characters in one message of the platform
        self.groups = GroupCards()
        self._hosts: dict[str, str] = {}
        self._delivered: set[str] = set()
        self._posting: dict[str, asyncio.Lock] = {}

    @abstractmethod
    def existing_card(self, job: Job) -> K | None:
        """The job's card, if it has one."""

    @abstractmethod
    def group_card(self, job: Job) -> K | None:
        """The card of the job's batch (the request's acknowledgement), if any."""

    @abstractmethod
    async def post_card(self, job: Job, face: Face) -> K | None:
        """Post a new card showing `face` for a job that has none; None where it may not."""

    def forget(self, job: Job) -> None:
        """Drop what the platform keeps about `job` once it has ended."""

    async def on_event(self, job: Job, event: JobEvent) -> None:
        """Show `event` on the job's card (or its line on its batch's card)."""
        if job.id in self._delivered:
            return  # "done" is shown; a late "sending…" must not replace it
        if isinstance(event, JobPreview):
            self._picture(job, event)
            return
        if isinstance(event, JobStarted):
            self._hosts[job.id] = event.host
        text = texts.status_line(job.id, event, self.markup, self._hosts.get(job.id) or job.host)
        if text is None:
            return
        ended = isinstance(event, JobFailed | JobCancelled)
        if not await self._show_group(job, text, ended=ended):
            face = Face(text, job.id if isinstance(event, STOPPABLE) else None)
            card = await self._card_of(job, face)
            if card is not None:
                await self.editor.edit(card, text, final=isinstance(event, FINAL), stop=face.stop)
        if ended:
            self._end(job)

    async def delivered(self, job: Job) -> None:
        """After the platform has the video: the card says "done", and late events are ignored."""
        self._delivered.add(job.id)
        text = texts.done(job.id, self.markup)
        if not await self._show_group(job, text, ended=True):
            card = self.existing_card(job)
            if card is not None:
                await self.editor.edit(card, text, final=True)
        self._end(job)

    def _picture(self, job: Job, event: JobPreview) -> None:
        """The newest preview on the job's own card (a batch's card shows none)."""
        if job.batch is not None:
            return
        card = self.existing_card(job)
        if card is not None:
            self.editor.picture(card, Picture(event.image, event.mime))

    def _end(self, job: Job) -> None:
        self._hosts.pop(job.id, None)
        self._posting.pop(job.id, None)
        self.forget(job)

    async def _show_group(self, job: Job, text: str, *, ended: bool) -> bool:
        """A batch's job: its line on the batch's card; False if not part of a batch."""
        shown = self.groups.show(job.batch, text, ended=ended)
        card = self.group_card(job)
        if shown is None or card is None:
            return False
        whole, finished = shown
        await self.editor.edit(card, fit(whole, self.limit), final=finished)
        return True

    async def _card_of(self, job: Job, face: Face) -> K | None:
        """The job's card; a new one (showing `face`, so None is returned) if it has none."""
        async with self._posting.setdefault(job.id, asyncio.Lock()):
            card = self.existing_card(job)
            if card is not None:
                return card
            posted = await self.post_card(job, face)
            if posted is not None:
                self.editor.remember(posted, face.text, stop=face.stop)
            return None
