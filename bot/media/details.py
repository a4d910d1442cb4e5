"""The Details answer under a video: every parameter under the flag that sets it, with units.

People re-type what they read here (`--steps 20 --seed 42`), so each value stands after the
flag name of its `Param` in `bot.params.PARAMS`, never after a field name of the request; the
negative prompt is here in full (the result's summary only says whether it was the default).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.media.summary import MODE_NAMES, num_text
from bot.media.units import duration_text
from bot.params import DEFAULT_NEGATIVE, JOB_COUNT, PARAMS, Param
from bot.request import JobRequest, Params


def details_text(
    job_id: str,
    request: JobRequest,
    *,
    host: str | None = None,
    gpu_seconds: float | None = None,
    default_negative: str = DEFAULT_NEGATIVE,
    escape: Callable[[str], str] = str,
) -> str:
    """The lines of Details for job `job_id`, e.g. "--frames 81 frames (5.1 s)"; `escape`
    makes user text (prompts, notes) literal in the platform's markup."""
    p = request.params
    lines = [
        f"Job {job_id} · {MODE_NAMES[request.mode]}",
        f"Prompt: {escape(request.prompt)}",
    ]
    for param in PARAMS:
        if request.mode in param.modes and _shown(param, p):
            lines.append(f"--{param.name} {_value(param, request)}")
    if host:
        lines.append(f"Host: {host}")
    if gpu_seconds is not None:
        lines.append(f"GPU time: {duration_text(gpu_seconds)}")
    if request.notes:
        lines.append("Notes: " + escape("; ".join(request.notes)))
    default = request.negative_prompt.strip() == default_negative.strip()
    lines.append(f"--neg{' (default)' if default else ''} {escape(request.negative_prompt)}")
    return "\n".join(lines)


def _shown(param: Param, p: Params) -> bool:
    """Every parameter of the job's mode, but the job count and a split that is not used."""
    if param.key in JOB_COUNT or param.key == "negative_prompt":
        return False
    return param.key != "split" or p.quality == "fast"


def _value(param: Param, request: JobRequest) -> str:
    p = request.params
    if param.key == "size":
        text = f"{p.width}x{p.height}"
    else:
        value: Any = getattr(p, param.key)
        text = num_text(value) if isinstance(value, float) else str(value)
    if param.unit:
        text += f" {param.unit}"
    if param.key == "frames":
        text += f" ({duration_text(p.frames / p.fps)})"
    return text
