"""Every shared text rendered once, for the snapshot tests (`test_texts.py`)."""

from __future__ import annotations

from pathlib import Path

from adapters.chat import texts
from adapters.chat.markup import Markup
from bot.frontend import (
    JobAccepted,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobProgress,
    JobResult,
    JobStarted,
    JobStatus,
    JobView,
    Mode,
    PositionChanged,
    QueueStatus,
)
from tests.factories import make_request

JOB = "a1b2c3d4e5"


def _views() -> list[JobView]:
    common = {"step": 0, "steps": 0, "host": None, "eta_seconds": None}
    running = {**common, "step": 12, "steps": 30, "host": "gpu-1", "eta_seconds": 95.0}
    return [
        JobView(JOB, Mode.I2V, JobStatus.RUNNING, None, 40.0, **running, prompt="a *cat*"),
        JobView(
            "f0f0f0f0f0",
            Mode.INFINITETALK,
            JobStatus.QUEUED,
            2,
            0.0,
            **{**common, "eta_seconds": 4000.0},
            prompt="x" * 80,
        ),
    ]


def snapshot(m: Markup) -> str:
    """Every text as "[name]" and its lines, as a test file stores it."""
    return "".join(f"[{name}]\n{text}\n" for name, text in render(m).items())


def render(m: Markup) -> dict[str, str]:
    """Each shared text under a name, rendered with the platform's markup `m`."""
    result = JobResult(Path("v.mp4"), Path("v.json"), 62.0, "gpu-1", make_request())
    events = {
        "accepted": JobAccepted(3, 125.0),
        "waiting": PositionChanged(1, None),
        "started": JobStarted("gpu-1"),
        "progress": JobProgress(41.6, 12, 30),
        "started clip": JobStarted("gpu-1", clip=3, clips=7),
        "progress clip": JobProgress(41.6, 12, 30, clip=3, clips=7),
        "finished": JobFinished(result),
        "failed": JobFailed("the *host* went away"),
        "cancelled": JobCancelled(),
        "cancelled by admin": JobCancelled(by_admin=True),
    }
    shown = {f"card {k}": texts.status_line(JOB, e, m, host="gpu-1") for k, e in events.items()}
    request = make_request(prompt="a *cat*   in_the garden", notes=["size rounded"])
    return {
        **{k: v or "" for k, v in shown.items()},
        "bar 0": texts.bar(0),
        "bar 55": texts.bar(55),
        "queue empty": texts.queue_text(QueueStatus([], 4, 1), m),
        "queue": texts.queue_text(QueueStatus(_views(), 4, 1), m),
        "caption": texts.caption(make_request(), m, limit=1024, duration=5.06, gpu_seconds=62),
        "caption noted": texts.caption(request, m, limit=1024, duration=None, gpu_seconds=None),
        "caption cut": texts.caption(request, m, limit=110, gpu_seconds=3, by="<@1>"),
        "done": texts.done(JOB, m),
        "reroll": texts.again("reroll", JOB, m),
        "extend": texts.again("extend", JOB, m),
        "settings": texts.settings_text("", "steps 20", "reset"),
        "paused": texts.paused("gpu-1", m),
        "draining": texts.draining(m),
        "drain": texts.draining(m, now=True),
        "not allowed": texts.NOT_ALLOWED,
        "not yours": texts.NOT_YOUR_JOB,
    }
