"""Everything the Telegram bot says, in one place: help, refusals, status lines, buttons."""

from __future__ import annotations

from bot.frontend import (
    PARAMS,
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

# (command, description) for setMyCommands: the menu Telegram shows when typing "/".
COMMANDS = [
    ("i2v", "Photo → video: send a photo captioned /i2v <prompt>"),
    ("talk", "Talking portrait: reply to a voice note with a photo captioned /talk"),
    ("animate", "Animate a photo with poses: album captioned /animate <prompt>"),
    ("queue", "Your jobs, their progress, and cancel buttons"),
    ("cancel", "Cancel your newest job, or /cancel <job id>"),
    ("extend", "Continue a finished video: /extend <job id> [new prompt]"),
    ("quota", "What you have used and have left today"),
    ("settings", "Your own defaults, e.g. /settings steps 20 quality fast"),
    ("help", "How to use the bot, with examples"),
]

HELP = """\
WanBot turns photos into short videos.

Photo → video (Wan I2V)
• Send a photo with the caption: /i2v a cat walking through a garden
• Or reply /i2v <prompt> to a photo already in the chat.
• From one photo to another: an album of two photos captioned /i2v <prompt> --end
• Longer: press ⏩ Extend under a video (or /extend <job id> [new prompt]) to continue it

Talking portrait (InfiniteTalk) — the video is as long as the speech
• Reply to a voice note or audio file with a photo captioned /talk <prompt>
• Or send a voice note captioned /talk as a reply to a photo
• Or reply /talk to a voice note; I then ask for the portrait photo.
A video or round video note works as the speech too: its sound track is used.

Animate a photo (WanAnimate)
• Send an album captioned /animate <prompt>: the first photo is the person, the other \
photos are the pose frames. Optional face frames: caption one item "face"; it and the \
items after it are face images.
• Or reply to a pose video, or a zip of pose images, with a photo captioned /animate <prompt> \
(or send the video or zip captioned /animate <prompt> as a reply to the photo).

Options go after the prompt, e.g. /i2v a dancer --steps 20 --seed 42 --size 480x832
{options}

Other commands
/queue — your jobs with progress, ETA and a Cancel button
/cancel [job id] — cancel a job
Under each video: 🎲 Reroll (same inputs, new seed) and ℹ️ Details (all parameters).
Photos and audio up to {download_limit}."""

NEED_PROMPT = "Add a prompt after the command, e.g. /{command} a cat walking through a garden."
NOT_AN_IMAGE = (
    "I need a photo. Send a photo (or an image file) with the caption /i2v <prompt>, or reply "
    "/i2v <prompt> to a photo."
)
NOT_AUDIO = (
    "InfiniteTalk needs speech: reply to a voice note, an audio file (MP3, M4A, OGG, WAV) or a "
    "video with sound with a photo captioned /talk <prompt>, or reply /talk to the voice note."
)
TALK_NEEDS_PHOTO = (
    "Send the voice note (or video) captioned /talk as a reply to the portrait photo."
)
ANIMATE_NEEDS_PHOTO = (
    "WanAnimate needs a reference photo: send an album whose first item is the photo of the "
    "person, captioned /animate <prompt>, or reply to a pose video or zip with a photo "
    "captioned /animate <prompt>."
)
ANIMATE_NEEDS_POSE = (
    "WanAnimate needs pose frames: add the pose images to the album after the reference photo, "
    "or reply with the photo to a pose video or a zip of pose images."
)
ALBUM_ITEM_UNUSABLE = "Every album item must be a photo, an image file, a video or a zip."
AWAIT_PHOTO = (
    "🎙 Got the audio. Now send the portrait photo (within {wait}) and I will make it talk."
)
AWAIT_EXPIRED = "The audio you chose for /talk has expired; reply /talk to it again."
TOO_BIG = (
    "That file is {size} — Telegram lets bots download at most {limit}. Please send a smaller "
    "or more compressed file."
)
FILE_GONE = (
    "I could not get that file from Telegram (it may have expired). Please send the file again."
)
NOT_ALLOWED = "Sorry, this bot is private. Ask its operator to add you."
END_NEEDS_TWO_PHOTOS = (
    "For a video from one photo to another, send an album of exactly two photos (the first "
    "and the last frame) captioned /i2v <prompt> --end."
)
SETTINGS = (
    "Your defaults: {values}.\nThey apply before each job's own flags. Change them with "
    "/settings steps 20 quality fast; clear them with /settings reset."
)


def settings_text(values: str) -> str:
    return SETTINGS.format(values=values or "none (the bot's own)")


AGAIN = {"reroll": "🎲 Rerolling as job {job}", "extend": "⏩ Extending as job {job}"}
EXTEND_USAGE = "Say which video: /extend <job id> [new prompt], or press ⏩ Extend under it."
ADMIN_ONLY = "That command is for the bot's admins."
PAUSE_USAGE = "Say which host: /pause <host> (see /hosts)."
BLOCK_USAGE = "Say who: /block <user id>, or reply /block to one of their messages."
PAUSED = "⏸ Host {host} finishes its job and takes no new ones. /resume {host} to undo."
RESUMED = "▶️ Host {host} takes jobs again."
DRAINING = "The bot is draining: no new jobs (/resume to take them again)."
TAKING_JOBS = "The bot takes new jobs."
DRAINING_NOW = "⏳ Draining: no new jobs; the queue is being finished. /resume to undo."
UNDRAINED = "▶️ The bot takes new jobs again."
BLOCKED = "🚫 {user} is blocked: their new jobs are refused."
UNBLOCKED = "✅ {user} may use the bot again."
BLOCKED_LIST = "Blocked: {users}"
UNKNOWN_COMMAND = "I don't know /{command}. Send /help for what I can do."
INTERNAL = "Something went wrong on our side (reference {ref}). Please try again later."
RECEIVED = "⏳ Got it — checking your files…"
NO_JOBS = "You have no jobs in the queue."
CANCELLED = "🚫 Job {job} cancelled."
CANCELLED_BY_ADMIN = "🚫 Job {job} was cancelled by an admin of this bot."
UNKNOWN_JOB = "Job {job} no longer exists."
NOT_YOUR_JOB = "Sorry, that is someone else's job: only they can use its buttons."
DELIVERY_DONE = "✅ Job {job} done."
ALBUM_NEEDS_ANIMATE = "Albums are for /animate: caption the album /animate <prompt>."


def options() -> str:
    """Every option of the parameter table, e.g. `--steps N, --cfg X, …`."""
    return ", ".join(f"--{p.name} {p.metavar}" for p in PARAMS)


def help_text(download_limit: int) -> str:
    return HELP.format(options=options(), download_limit=mib(download_limit))


def mib(size: int) -> str:
    return size_text(size)


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


def status_line(job_id: str, event: JobEvent, host: str | None = None) -> str | None:
    """The text of the job's status message after `event`, or None to leave it as it is."""
    if isinstance(event, JobAccepted | PositionChanged):
        head = "✅ Accepted" if isinstance(event, JobAccepted) else "⏳ Waiting"
        return (
            f"{head} — job {job_id}\n"
            f"Queue position: {event.position} · ETA ~{duration(event.eta_seconds)}"
        )
    if isinstance(event, JobStarted):
        return f"▶️ Started on {event.host} — job {job_id}"
    if isinstance(event, JobProgress):
        where = f" on {host}" if host else ""
        step = f" · step {event.step}/{event.steps}" if event.steps else ""
        return (
            f"🎬 Generating{where} — job {job_id}\n{bar(event.percent)} {event.percent:.0f}%{step}"
        )
    if isinstance(event, JobFinished):
        return f"📤 Finished — job {job_id}. Sending the video…"
    if isinstance(event, JobFailed):
        return f"❌ Job {job_id} failed: {event.reason}"
    if isinstance(event, JobCancelled):
        return (CANCELLED_BY_ADMIN if event.by_admin else CANCELLED).format(job=job_id)
    return None


_STATE = {
    JobStatus.QUEUED: "⏳ queued",
    JobStatus.RUNNING: "🎬 running",
    JobStatus.DELIVERING: "📤 sending",
}


def view_line(view: JobView) -> str:
    state = _STATE.get(view.status, str(view.status))
    parts = [f"{view.id} · {view.mode.value} · {state}"]
    if view.status is JobStatus.QUEUED and view.position is not None:
        parts.append(f"position {view.position}")
    if view.status is JobStatus.RUNNING:
        step = f" step {view.step}/{view.steps}" if view.steps else ""
        parts.append(f"{view.progress:.0f}%{step}" + (f" on {view.host}" if view.host else ""))
    if view.eta_seconds is not None:
        parts.append(f"ETA ~{duration(view.eta_seconds)}")
    prompt = view.prompt if len(view.prompt) <= 60 else view.prompt[:57] + "…"
    return " · ".join(parts) + f"\n   “{prompt}”"


def queue_text(status: QueueStatus) -> str:
    total = f"Queue: {status.queued} waiting, {status.running} running."
    if not status.jobs:
        return f"{NO_JOBS}\n{total}"
    lines = ["Your jobs:", *(view_line(v) for v in status.jobs), "", total]
    return "\n".join(lines)
