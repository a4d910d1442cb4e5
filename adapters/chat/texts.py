"""What the bot says on every platform, in one wording: the job card's status line and progress
bar, the queue, the result caption, refusals and the admins' answers.

Ids and commands go through `Markup.code`, user text through `Markup.escape`, so each platform
renders the same sentence its own way. Help and option descriptions, which name each
platform's own gestures (a caption, a slash option), stay in the platform's `texts`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from adapters.chat.markup import Markup
from bot.frontend import (
    JobAccepted,
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
    JobStatus,
    JobView,
    Mode,
    PositionChanged,
    QueueStatus,
    duration_text,
    fit,
    mode_name,
)

ELLIPSIS = "…"


class _Params(Protocol):
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def frames(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def seed(self) -> int: ...
    @property
    def steps(self) -> int: ...
    @property
    def quality(self) -> str: ...


class Request(Protocol):
    """What a caption reads of a `JobRequest` (`JobResult.request`)."""

    @property
    def mode(self) -> Mode: ...
    @property
    def prompt(self) -> str: ...
    @property
    def params(self) -> _Params: ...
    @property
    def notes(self) -> Sequence[str]: ...


NOT_ALLOWED = "Sorry, this bot is private here. Ask its operator to add you."
ADMIN_ONLY = "That command is for the bot's admins."
INTERNAL = "Something went wrong on our side (reference {ref}). Please try again later."
NO_JOBS = "You have no jobs in the queue."
UNKNOWN_JOB = "Job {job} no longer exists."
NOT_YOUR_JOB = "Sorry, that is someone else's job: only they can use its buttons."
CHECKING = "⏳ Got it — checking your files…"
SETTINGS = (
    "Your defaults: {values}.\nThey apply before each job's own options. Change them with "
    "{change}; clear them with {reset}."
)
NO_DEFAULTS = "none (the bot's own)"
TAKING_JOBS = "The bot takes new jobs."


def leader(holder: str) -> str:
    """Which `wanbot serve` leads, in `/hosts` (several processes on one database)."""
    return f"Leading process: {holder} (the others are standbys)."


UNDRAINED = "▶️ The bot takes new jobs again."
REFETCHING = "📥 Fetching the video of job {job} again from {host}; it is sent when it arrives."
_AGAIN = {"reroll": "🎲 Rerolling as job {job}.", "extend": "⏩ Extending as job {job}."}
_STATE = {
    JobStatus.QUEUED: "⏳ queued",
    JobStatus.RUNNING: "🎬 running",
    JobStatus.DELIVERING: "📤 sending",
}
NOTES = "ℹ️ notes in Details"
QUEUE_PROMPT = 60  # characters of a prompt in /queue


def duration(seconds: float | None) -> str:
    """An ETA in whole seconds as every duration reads ("45 s", "3 min 5 s"), or "unknown"."""
    return "unknown" if seconds is None else duration_text(round(seconds))


def bar(percent: float, width: int = 12) -> str:
    """A progress bar of `width` cells, e.g. "▓▓▓░░░░░░░░░"."""
    filled = max(0, min(width, round(percent / 100 * width)))
    return "▓" * filled + "░" * (width - filled)


def cancelled(job_id: str, m: Markup, *, by_admin: bool = False) -> str:
    """The answer to a cancel, and the card of a cancelled job."""
    if by_admin:
        return f"🚫 Job {m.code(job_id)} was cancelled by an admin of this bot."
    return f"🚫 Job {m.code(job_id)} cancelled."


def done(job_id: str, m: Markup) -> str:
    """The card once its video is delivered."""
    return f"✅ Job {m.code(job_id)} done."


def again(action: str, job_id: str, m: Markup) -> str:
    """The answer to a reroll or an extension: the new job's id."""
    return _AGAIN[action].format(job=m.code(job_id))


def status_line(job_id: str, event: JobEvent, m: Markup, host: str | None = None) -> str | None:
    """The job card's text after `event`, or None to leave it as it is."""
    job = m.code(job_id)
    if isinstance(event, JobAccepted | PositionChanged):
        head = "✅ Accepted" if isinstance(event, JobAccepted) else "⏳ Waiting"
        eta = duration(event.eta_seconds)
        return f"{head} — job {job}\nQueue position: {event.position} · ETA ~{eta}"
    if isinstance(event, JobStarted):
        return f"▶️ Started{_clip(event)} on {event.host} — job {job}"
    if isinstance(event, JobProgress):
        where = f" on {host}" if host else ""
        step = f" · step {event.step}/{event.steps}" if event.steps else ""
        head = f"🎬 Generating{_clip(event)}{where} — job {job}"
        return f"{head}\n{bar(event.percent)} {event.percent:.0f}%{step}"
    if isinstance(event, JobFinished):
        return f"📤 Finished — job {job}. Sending the video…"
    if isinstance(event, JobFailed):
        return f"❌ Job {job} failed: {m.escape(event.reason)}"
    if isinstance(event, JobCancelled):
        return cancelled(job_id, m, by_admin=event.by_admin)
    return None


def _clip(event: JobStarted | JobProgress) -> str:
    """Which clip of a long video, where the job is one."""
    return f" clip {event.clip} of {event.clips}" if event.clips > 1 else ""


def view_line(view: JobView, m: Markup) -> str:
    """One job of `/queue`: id, mode, state, position or progress, ETA, then its prompt."""
    parts = [f"{m.code(view.id)} · {view.mode.value} · {_STATE.get(view.status, view.status)}"]
    if view.status is JobStatus.QUEUED and view.position is not None:
        parts.append(f"position {view.position}")
    if view.status is JobStatus.RUNNING:
        step = f" step {view.step}/{view.steps}" if view.steps else ""
        parts.append(f"{view.progress:.0f}%{step}" + (f" on {view.host}" if view.host else ""))
    if view.eta_seconds is not None:
        parts.append(f"ETA ~{duration(view.eta_seconds)}")
    return " · ".join(parts) + f"\n   “{m.escape(shorten(view.prompt, QUEUE_PROMPT))}”"


def queue_text(status: QueueStatus, m: Markup) -> str:
    """The answer to `/queue`: the user's jobs, then the queue's totals."""
    total = f"Queue: {status.queued} waiting, {status.running} running."
    if not status.jobs:
        return f"{NO_JOBS}\n{total}"
    return "\n".join(["Your jobs:", *(view_line(v, m) for v in status.jobs), "", total])


def settings_text(values: str, change: str, reset: str) -> str:
    """The answer to `/settings`; `change` and `reset` are the platform's example commands."""
    return SETTINGS.format(values=values or NO_DEFAULTS, change=change, reset=reset)


def shorten(text: str, limit: int) -> str:
    """`text` with whitespace collapsed, cut to `limit` characters ending in "…" if longer."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS if limit > 0 else ""


def result_line(request: Request, *, duration: float | None, gpu_seconds: float | None) -> str:
    """The one line under a video: size, length, seed, steps, quality (image to video) or the
    mode, GPU time (and a pointer to Details when the bot noted something about the request)."""
    p = request.params
    seconds = duration if duration is not None else p.frames / p.fps
    parts = [
        f"{p.width}x{p.height}",
        duration_text(seconds),
        f"seed {p.seed}",
        f"{p.steps} steps",
        f"{p.quality} quality" if request.mode is Mode.I2V else mode_name(request.mode),
    ]
    if gpu_seconds is not None:
        parts.append(f"GPU {duration_text(gpu_seconds)}")
    if request.notes:  # what the bot changed or chose: worth a look, said in Details
        parts.append(NOTES)
    return " · ".join(parts)


def caption(
    request: Request,
    m: Markup,
    *,
    limit: int,
    duration: float | None = None,
    gpu_seconds: float | None = None,
    by: str = "",
) -> str:
    """A result's caption: the prompt (escaped, shortened to fit `limit` with the line under
    it; `by`: who asked, after it, where a channel mixes users), then `result_line`. The
    negative prompt, the scheduler and the rest are in Details."""
    line = result_line(request, duration=duration, gpu_seconds=gpu_seconds)
    who = f" — {by}" if by else ""
    room = limit - len(line) - len(who) - 1
    prompt = re.sub(r"\s+", " ", request.prompt).strip()
    if len(m.escape(prompt)) > room:
        # Cut the prompt itself, never an escape sequence in two.
        low, high = 0, len(prompt)
        while low < high:
            mid = (low + high + 1) // 2
            fits = len(m.escape(shorten(prompt, mid))) <= room
            low, high = (mid, high) if fits else (low, mid - 1)
        prompt = shorten(prompt, low)
    # Only a limit shorter than the line itself cuts more than the prompt.
    return fit(f"{m.escape(prompt)}{who}\n{line}" if prompt or who else line, limit)


# -- admins -------------------------------------------------------------------------------


def paused(host: str, m: Markup) -> str:
    undo = m.code(f"/resume {host}")
    return f"⏸ Host {host} finishes its job and takes no new ones. {undo} to undo."


def resumed(host: str) -> str:
    return f"▶️ Host {host} takes jobs again."


def draining(m: Markup, *, now: bool = False) -> str:
    """The bot's state in `/hosts` (`now`: the answer to `/drain`)."""
    if now:
        return (
            f"⏳ Draining: no new jobs; the queue is being finished. {m.code('/resume')} to undo."
        )
    return f"The bot is draining: no new jobs ({m.code('/resume')} to take them again)."


def blocked(user: str) -> str:
    return f"🚫 {user} is blocked: their new jobs are refused."


def unblocked(user: str) -> str:
    return f"✅ {user} may use the bot again."
