"""A queued job as the engine holds it in memory: what the queue needs, and nothing more.

A community can queue 100,000 jobs. Held whole (the request, its files, the reply target,
the work folder) each costs kilobytes and a reload parses every request; so a queued job
is a `Queued` record of its id, owner, order, mode, units of work, needs and the start of
its prompt (for `/queue`), read from columns of its row written when it was accepted. The
whole job is read from the store when it starts, or when something needs it (a cancel, a
notification to its front end): `Ledger.full`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bot.chain import plan_chain
from bot.engine.eta import work
from bot.engine.hosts import MODE_FEATURES
from bot.engine.jobs import Job, JobStatus
from bot.request import JobRequest, Mode
from workflows.hardware import fast_needs_720p

# Characters of the prompt a queued job keeps in memory: `/queue` shows 60.
PREVIEW = 100


@dataclass(slots=True, eq=False)
class Queued:
    """A queued job not loaded in full (see the module's docstring)."""

    id: str
    user: str  # "platform:user_id"
    seq: int
    mode: Mode
    created_at: float
    work: float  # units of work (`eta.work`)
    needs: frozenset[str]  # what its host must have (`Slot.has`)
    prompt: str  # its first `PREVIEW` characters

    @property
    def status(self) -> JobStatus:
        return JobStatus.QUEUED

    @property
    def platform(self) -> str:
        return self.user.partition(":")[0]

    @classmethod
    def of(cls, job: Job) -> Queued:
        """The record of a whole job."""
        return cls(
            job.id,
            sys.intern(job.user),  # one string per user, however many jobs
            job.seq,
            job.mode,
            job.created_at,
            work(job.request),
            needs(job.request),
            job.request.prompt[:PREVIEW],
        )


def needs(request: JobRequest) -> frozenset[str]:
    """What a host must have (its `features`) to run this request."""
    wanted = set()
    params = request.params
    if params.quality == "fast":
        wanted.add("fast")
        if fast_needs_720p(params.width, params.height):
            wanted.add("fast_720p")  # only hosts whose preset allows it
    if plan_chain(request) is not None:
        wanted.add("svi")  # a clip of a long video: only hosts with the SVI LoRAs
    if request.mode is Mode.ANIMATE2:
        wanted.add("animate2")  # only hosts with its model; on core nodes everywhere
    elif request.mode.value in MODE_FEATURES:
        wanted.add(request.mode.value)  # a wrapper host, or a native one with the mode's files
    if "svi" in wanted:
        wanted.add("wrapper")  # what ComfyUI's own nodes do not make here
    found = frozenset(wanted)
    return _NEEDS.setdefault(found, found)  # one object per distinct set, not one per job


# Every distinct set of needs seen (a handful: they are combinations of a few features).
_NEEDS: dict[frozenset[str], frozenset[str]] = {}


def needs_text(wanted: frozenset[str]) -> str:
    """How `needs` is stored: the names in order, space-separated ("" for none)."""
    return " ".join(sorted(wanted))


class Shared:
    """One set object per distinct value among many records read together (needs repeat
    across thousands of queued jobs); users are interned (`sys.intern`) like new records'."""

    def __init__(self) -> None:
        self._needs: dict[str, frozenset[str]] = {}

    def user(self, platform: str, user_id: str) -> str:
        return sys.intern(f"{platform}:{user_id}")

    def needs(self, text: str) -> frozenset[str]:
        found = self._needs.get(text)
        if found is None:
            wanted = frozenset(text.split())
            found = self._needs[text] = _NEEDS.setdefault(wanted, wanted)
        return found
