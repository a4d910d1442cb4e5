"""The parameter summary sent with a result: short enough for a caption, complete in JSON.

`summarize` keeps every value on a few compact lines and shortens the prompt (and, harder,
the negative prompt) with "…" so the whole text fits the platform's limit. `full_summary`
keeps everything for the archive.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.media.units import duration_text
from bot.params import DEFAULT_NEGATIVE
from bot.request import JobRequest, Mode

ELLIPSIS = "…"
# The negative prompt is boilerplate most of the time; when space is short it gets at most
# this share of what is left, the prompt the rest.
NEGATIVE_SHARE = 0.2
MAX_NOTES = 300
DEFAULT_MARK = "default"  # what a negative prompt nobody chose reads as

MODE_NAMES = {
    Mode.I2V: "Image to video",
    Mode.INFINITETALK: "InfiniteTalk",
    Mode.ANIMATE: "Animate",
    Mode.ANIMATE2: "Animate-2",
}


def mode_name(mode: Mode) -> str:
    """What people read for `mode`: "Image to video", "InfiniteTalk", "Animate-2"."""
    return MODE_NAMES[mode]


def shorten(text: str, limit: int) -> str:
    """`text` with whitespace collapsed, cut to `limit` characters ending in "…" if longer."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    return text[: limit - 1].rstrip() + ELLIPSIS


def num_text(value: float) -> str:
    """A parameter's number as people write it: "6", "6.5", never "6.0"."""
    return f"{value:g}"


def _fixed_lines(
    request: JobRequest,
    host: str | None,
    gpu_seconds: float | None,
    duration: float | None,
    escape: Callable[[str], str],
) -> list[str]:
    p = request.params
    seconds = duration if duration is not None else p.frames / p.fps
    lines = [
        f"{MODE_NAMES[request.mode]} · {p.width}x{p.height} · {p.frames} frames @ "
        f"{num_text(p.fps)} fps · {duration_text(seconds)}",
        f"Seed {p.seed} · steps {p.steps} · CFG {num_text(p.cfg)} · shift {num_text(p.shift)} · "
        f"{p.scheduler}" + (f" · denoise {num_text(p.denoise)}" if p.denoise != 1 else ""),
    ]
    if request.mode in (Mode.INFINITETALK, Mode.ANIMATE):
        window = f"Window {p.frame_window} · motion frame {p.motion_frame}"
        if request.mode == Mode.ANIMATE:
            window += (
                f" · pose {num_text(p.pose_strength)} · face {num_text(p.face_strength)} · "
                f"color match {p.color_match}"
            )
        lines.append(window)
    if request.mode == Mode.ANIMATE2:
        lines.append(f"Clips of up to {p.frame_window} frames · pose {num_text(p.pose_strength)}")
    run = []
    if gpu_seconds is not None:
        run.append(f"GPU {duration_text(gpu_seconds)}")
    if host:
        run.append(f"host {host}")
    if run:
        lines.append(" · ".join(run))
    if request.notes:
        lines.append(shorten("Notes: " + escape("; ".join(request.notes)), MAX_NOTES))
    return lines


def summarize(
    request: JobRequest,
    *,
    limit: int,
    host: str | None = None,
    gpu_seconds: float | None = None,
    duration: float | None = None,
    default_negative: str = DEFAULT_NEGATIVE,
    escape: Callable[[str], str] = str,
) -> str:
    """A compact, readable summary of `request` in at most `limit` characters.

    `limit` is the platform's (a Telegram caption: 1024; a Discord message: 2000).
    `duration` is the real video length; without it, frames / fps. A negative prompt equal
    to `default_negative` (the bot's, or the operator's `[defaults.<mode>]` one: see
    `bot.params.default_negative`) reads "Negative: default": the same few hundred characters
    of boilerplate under every video say nothing (Details shows it in full). `escape` makes
    user text (prompts, notes) literal in the platform's markup (Discord's Markdown); the
    limit counts the escaped text.
    """
    fixed = "\n".join(_fixed_lines(request, host, gpu_seconds, duration, escape))
    prompt = escape(re.sub(r"\s+", " ", request.prompt).strip())
    negative = re.sub(r"\s+", " ", request.negative_prompt).strip()
    if negative == re.sub(r"\s+", " ", default_negative).strip():
        negative = DEFAULT_MARK
    negative = escape(negative)
    prompt_label, negative_label = "\nPrompt: ", "\nNegative: "
    room = limit - len(fixed) - len(prompt_label) - (len(negative_label) if negative else 0)
    if len(prompt) + len(negative) <= room:
        prompt_room, negative_room = len(prompt), len(negative)
    else:
        negative_room = min(len(negative), max(int(room * NEGATIVE_SHARE), room - len(prompt)))
        prompt_room = room - negative_room
    text = fixed + prompt_label + shorten(prompt, prompt_room)
    if negative and negative_room > 0:
        text += negative_label + shorten(negative, negative_room)
    # Only a limit smaller than the fixed lines themselves gets here.
    return text if len(text) <= limit else text[: max(0, limit - 1)] + ELLIPSIS


def full_summary(
    request: JobRequest,
    *,
    host: str | None = None,
    gpu_seconds: float | None = None,
    duration: float | None = None,
) -> dict[str, Any]:
    """Everything about the job, JSON-ready, for the archive."""
    data = request.model_dump(mode="json")
    data["host"] = host
    data["gpu_seconds"] = gpu_seconds
    data["duration"] = duration
    return data
