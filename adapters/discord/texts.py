"""Everything the Discord bot says, in one place: help, refusals, the job card, the queue."""

from __future__ import annotations

import discord

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
    PositionChanged,
    QueueStatus,
    size_text,
)

I2V = "Photo → video: an image and a prompt"
TALK = "Talking portrait (InfiniteTalk): a portrait and speech"
PORTRAIT_OPTION = "the portrait photo of who speaks"
AUDIO_OPTION = "the speech: a voice message, an audio file, or a video with sound"
PORTRAIT_LABEL = "Portrait"
PORTRAIT_HINT = "a photo of who speaks"
PROMPT_LABEL = "Prompt (optional)"
NEED_PORTRAIT = "Add the portrait photo to the form, then send it again."
NO_SPEECH = (
    "“Talking video” needs a message with a voice message, an audio file or a video: use it on "
    "such a message, or use /talk image:<portrait> audio:<speech>."
)
ANIMATE = "Animate a person with poses (WanAnimate): a photo and a pose video, image or zip"
PERSON_OPTION = "the photo of the person to animate"
POSE_OPTION = "the pose frames: a video, one image, or a zip of images"
FACE_OPTION = "face frames (a video, image or zip) as many as the pose frames"
BACKGROUND_OPTION = "a background image"
QUEUE = "Your jobs with progress, ETA and Cancel buttons"
CANCEL = "Cancel your newest job, or the one you name"
HELP_COMMAND = "How to use the bot, with examples"
IMAGE_OPTION = "the photo to animate"
END_OPTION = "optional: the photo the video should end on"
PROMPT_OPTION = "what should happen in the video"
JOB_OPTION = "the job id (default: your newest job)"
FLAGS_OPTION = "more options in the shared syntax, e.g. --steps 20 --seed 7"

HELP = """\
**WanBot** turns photos into short videos.

**Photo → video** — `/i2v image:<photo> prompt:a cat walking through a garden`
Options: {options}. They are also accepted as text in `flags`, e.g. `--steps 20 --seed 42`.

**Talking portrait** — `/talk image:<portrait> audio:<speech> [prompt]`; the video is as long \
as the speech (a voice message, an audio file, or a video with sound).
**Animate a person** — `/animate image:<photo> pose:<video, image or zip> [face] \
[background] [prompt]`, with `pose_strength`, `face_strength`, `color_match`.
Or right-click (long-press) a voice message → **Apps → Talking video**: a photo in that message \
or in the one it replies to is the portrait; otherwise the form asks for one.

`/queue` — your jobs with progress, ETA and a Cancel button
`/cancel [job]` — cancel a job (your newest one without a job id)
Under each video: 🎲 **Reroll** (same inputs, new seed) and ℹ️ **Details** (all parameters).
Images up to {limit}."""

QUOTA_COMMAND = "What you have used and have left today"
SETTINGS_COMMAND = "Your own defaults for every job, e.g. steps 20 quality fast"
SETTINGS_OPTION = "name and value pairs, e.g. steps 20 quality fast; reset clears them"
SETTINGS = (
    "Your defaults: {values}.\nThey apply before each job's own options. Change them with "
    "`/settings values:steps 20 quality fast`; clear them with `/settings values:reset`."
)


def settings_text(values: str) -> str:
    return SETTINGS.format(values=values or "none (the bot's own)")


ADMIN_ONLY = "That command is for the bot's admins."
HOSTS = "Admins: each GPU host, its jobs and VRAM"
PAUSE = "Admins: a host finishes its job and takes no new ones"
RESUME = "Admins: a paused host takes jobs again; without a host, stop draining"
DRAIN = "Admins: take no new jobs and finish the queue (before a restart)"
BLOCK = "Admins: refuse a user's new jobs"
UNBLOCK = "Admins: let a blocked user use the bot again"
HOST_OPTION = "The host, as named in the config"
RESUME_OPTION = "The host to resume; leave empty to stop draining"
USER_OPTION = "The user"
PAUSED = "⏸ Host {host} finishes its job and takes no new ones. `/resume {host}` to undo."
RESUMED = "▶️ Host {host} takes jobs again."
DRAINING = "The bot is draining: no new jobs (`/resume` to take them again)."
TAKING_JOBS = "The bot takes new jobs."
DRAINING_NOW = "⏳ Draining: no new jobs; the queue is being finished. `/resume` to undo."
UNDRAINED = "▶️ The bot takes new jobs again."
BLOCKED = "🚫 {user} is blocked: their new jobs are refused."
UNBLOCKED = "✅ {user} may use the bot again."
NOT_ALLOWED = "Sorry, this bot is private here. Ask its operator to add you."
INTERNAL = "Something went wrong on our side (reference {ref}). Please try again later."
INTERNAL_JOB = "Something went wrong on our side with job {job} (reference {ref})."
TOO_BIG = "That file is {size}; I can take at most {limit}. Please send a smaller file."
NOT_AN_IMAGE = "`{name}` is not an image: attach a photo (JPEG, PNG, WebP or GIF) as `image`."
DOWNLOAD_FAILED = "I could not download `{name}` from Discord; please attach it again."
FLAGS_ONLY = (
    "`flags` takes only options such as `--steps 20 --seed 7`; put the text “{text}” in `prompt`."
)
BAD_VALUE = "{name} {value!r} is not valid: {help}."
GIVEN_TWICE = (
    "`{option}:{value}` and `--{flag} {other}` in `flags` set the same thing: give it once."
)
CHECKING = "⏳ Checking your files…"
QUEUED = "✅ Job {job} is queued; its card follows it."
QUEUED_MANY = "✅ Jobs {job} are queued; their card follows them."
MOVED_TO_DM = (
    "I may not post in this channel (a server admin can give me **Send Messages**, "
    "**Attach Files** and **Read Message History** here), so the card and the video come "
    "to you in a direct message."
)
NO_CARD = (
    "I may not post in this channel and your direct messages are closed, so the video comes "
    "here, for your eyes only, if it is ready within 15 minutes. To be sure to get it, allow "
    "direct messages from this server's members, or ask a server admin to give me **Send "
    "Messages** and **Attach Files** here."
)
NOT_IN_CHANNEL = "I may not post in {channel}, so your video comes here."
NO_JOBS = "You have no jobs in the queue."
CANCELLED = "🚫 Job {job} cancelled."
CANCELLED_BY_ADMIN = "🚫 Job {job} was cancelled by an admin of this bot."
UNKNOWN_JOB = "Job {job} no longer exists."
NOT_YOUR_JOB = "Sorry, that is someone else's job: only they can use its buttons."
REROLLING = "🎲 Rerolling as job {job}."
AGAIN = {"reroll": REROLLING, "extend": "⏩ Extending as job {job}."}
EXTEND = "Continue a finished video from its last frame"
EXTEND_JOB_OPTION = "the job id of the video (under it: ℹ️ Details)"
EXTEND_PROMPT_OPTION = "what happens next (default: the video's own prompt)"
EXTEND_TITLE = "Extend the video"
EXTEND_LABEL = "What happens next"
DONE = "✅ Job {job} done."
RESULT = "🎬 Job {job} for {user}"


def options(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def help_text(names: list[str], limit: int) -> str:
    return HELP.format(options=options(names), limit=size_text(limit))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s" if minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def bar(percent: float, width: int = 12) -> str:
    filled = max(0, min(width, round(percent / 100 * width)))
    return "▓" * filled + "░" * (width - filled)


def card(job_id: str, event: JobEvent, host: str | None = None) -> str | None:
    """The job card's text after `event`, or None to leave it as it is."""
    if isinstance(event, JobAccepted | PositionChanged):
        head = "✅ Accepted" if isinstance(event, JobAccepted) else "⏳ Waiting"
        return (
            f"{head} — job `{job_id}`\n"
            f"Queue position: {event.position} · ETA ~{duration(event.eta_seconds)}"
        )
    if isinstance(event, JobStarted):
        return f"▶️ Started on {event.host} — job `{job_id}`"
    if isinstance(event, JobProgress):
        where = f" on {host}" if host else ""
        step = f" · step {event.step}/{event.steps}" if event.steps else ""
        return (
            f"🎬 Generating{where} — job `{job_id}`\n"
            f"{bar(event.percent)} {event.percent:.0f}%{step}"
        )
    if isinstance(event, JobFinished):
        return f"📤 Finished — job `{job_id}`. Sending the video…"
    if isinstance(event, JobFailed):
        return f"❌ Job `{job_id}` failed: {discord.utils.escape_markdown(event.reason)}"
    if isinstance(event, JobCancelled):
        return (CANCELLED_BY_ADMIN if event.by_admin else CANCELLED).format(job=f"`{job_id}`")
    return None


_STATE = {
    JobStatus.QUEUED: "⏳ queued",
    JobStatus.RUNNING: "🎬 running",
    JobStatus.DELIVERING: "📤 sending",
}


def view_line(view: JobView) -> str:
    state = _STATE.get(view.status, str(view.status))
    parts = [f"`{view.id}` · {view.mode.value} · {state}"]
    if view.status is JobStatus.QUEUED and view.position is not None:
        parts.append(f"position {view.position}")
    if view.status is JobStatus.RUNNING:
        step = f" step {view.step}/{view.steps}" if view.steps else ""
        parts.append(f"{view.progress:.0f}%{step}" + (f" on {view.host}" if view.host else ""))
    if view.eta_seconds is not None:
        parts.append(f"ETA ~{duration(view.eta_seconds)}")
    prompt = view.prompt if len(view.prompt) <= 60 else view.prompt[:57] + "…"
    return " · ".join(parts) + f"\n   “{discord.utils.escape_markdown(prompt)}”"


def queue_text(status: QueueStatus) -> str:
    total = f"Queue: {status.queued} waiting, {status.running} running."
    if not status.jobs:
        return f"{NO_JOBS}\n{total}"
    return "\n".join(["Your jobs:", *(view_line(v) for v in status.jobs), "", total])
