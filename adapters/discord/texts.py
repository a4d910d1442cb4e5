"""What only the Discord bot says: its help, its commands' and options' descriptions, and the
refusals that name Discord's own gestures (attachments, options, channels, DMs). Its `MARKUP`
renders the shared texts (`adapters.chat.texts`): ids as code spans, user text escaped."""

from __future__ import annotations

import discord

from adapters.chat.markup import Markup
from bot.frontend import size_text


def _code(text: str) -> str:
    return f"`{text}`"


# Markdown: ids and commands as code spans; what users typed is shown, never rendered.
MARKUP = Markup(code=_code, escape=discord.utils.escape_markdown)

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
ANIMATE2 = "Move a photo like a video (Wan-Animate-2): a photo and a video of someone moving"
MOTION_OPTION = "a video of a person moving (no pose frames needed)"
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
Long videos: `length:30s`, or shots: `prompt:a cat wakes up shots:it stretches | it walks \
away` (or `|` in the prompt).

**Talking portrait** — `/talk image:<portrait> audio:<speech> [prompt]`; the video is as long \
as the speech (a voice message, an audio file, or a video with sound).
**Animate a person** — `/animate image:<photo> pose:<video, image or zip> [face] \
[background] [prompt]`, with `pose_strength`, `face_strength`, `color_match`.
**Move a photo like a video** — `/animate2 image:<photo> video:<someone moving> [prompt]` \
(Wan-Animate-2: no pose frames needed), with `pose_strength`.
Or right-click (long-press) a voice message → **Apps → Talking video**: a photo in that message \
or in the one it replies to is the portrait; otherwise the form asks for one.

`/queue` — your jobs with progress, ETA and a Cancel button
`/cancel [job]` — cancel a job (your newest one without a job id)
While a job runs, its card shows a preview of the video and a ⏹ **Stop** button.
Under each video: 🎲 **Reroll** (same inputs, new seed) and ℹ️ **Details** (all parameters).
Images up to {limit}."""

QUOTA_COMMAND = "What you have used and have left today"
SETTINGS_COMMAND = "Your own defaults for every job, e.g. steps 20 quality fast"
SETTINGS_OPTION = "name and value pairs, e.g. steps 20 quality fast; reset clears them"
SETTINGS_CHANGE = "`/settings values:steps 20 quality fast`"
SETTINGS_RESET = "`/settings values:reset`"
HOSTS = "Admins: each GPU host, its jobs and VRAM"
PAUSE = "Admins: a host finishes its job and takes no new ones"
RESUME = "Admins: a paused host takes jobs again; without a host, stop draining"
DRAIN = "Admins: take no new jobs and finish the queue (before a restart)"
BLOCK = "Admins: refuse a user's new jobs"
UNBLOCK = "Admins: let a blocked user use the bot again"
HOST_OPTION = "The host, as named in the config"
RESUME_OPTION = "The host to resume; leave empty to stop draining"
USER_OPTION = "The user"
REFETCH = "Admins: fetch again a video that was made but could not be fetched"
REFETCH_OPTION = "The job id"
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
SHOTS_OPTION = "A long video's next shots, one clip each, split by | (it stretches | it leaves)"
EXTEND = "Continue a finished video from its last frame"
EXTEND_JOB_OPTION = "the job id of the video (under it: ℹ️ Details)"
EXTEND_PROMPT_OPTION = "what happens next (default: the video's own prompt)"
EXTEND_TITLE = "Extend the video"
EXTEND_LABEL = "What happens next"


def options(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def help_text(names: list[str], limit: int) -> str:
    return HELP.format(options=options(names), limit=size_text(limit))
