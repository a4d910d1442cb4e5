"""What only the Telegram bot says: its help, its command menu, and the refusals that name
Telegram's own gestures (captions, albums, replies). The rest is `adapters.chat.texts`."""

from __future__ import annotations

from bot.frontend import PARAMS, size_text

# (command, description) for setMyCommands: the menu Telegram shows when typing "/".
COMMANDS = [
    ("i2v", "Photo → video: send a photo captioned /i2v <prompt>"),
    ("talk", "Talking portrait: reply to a voice note with a photo captioned /talk"),
    ("animate", "Animate a photo with poses: album captioned /animate <prompt>"),
    ("animate2", "Move a photo like a video: a photo captioned /animate2 replying to a video"),
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
• Long videos: add --length 30s, or tell it in shots: /i2v a cat wakes up | it stretches

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

Move a photo like a video (Wan-Animate-2) — no pose frames needed
• Reply to a video of someone moving with a photo captioned /animate2 <prompt>
• Or send the video captioned /animate2 as a reply to the photo, or an album of the photo \
and the video captioned /animate2.

Options go after the prompt, e.g. /i2v a dancer --steps 20 --seed 42 --size 480x832
{options}

Other commands
/queue — your jobs with progress, ETA and a Cancel button
/cancel [job id] — cancel a job
While a job runs, its message shows a preview of the video and a ⏹ Stop button.
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
ANIMATE2_NEEDS_PHOTO = (
    "Wan-Animate-2 needs the photo of the person: reply to a video of someone moving with a "
    "photo captioned /animate2 <prompt>, or send the video captioned /animate2 as a reply to "
    "the photo."
)
ANIMATE2_NEEDS_VIDEO = (
    "Wan-Animate-2 needs a video of someone moving (a video, a GIF or a round video note): "
    "reply to it with the photo captioned /animate2 <prompt>, or send it captioned /animate2 "
    "as a reply to the photo."
)
ANIMATE2_ALBUM = (
    "For /animate2, send an album of exactly one photo and one video captioned /animate2 <prompt>."
)
ALBUM_ITEM_UNUSABLE = "Every album item must be a photo, an image file, a video or a zip."
AWAIT_PHOTO = (
    "🎙 Got the audio. Now send the portrait photo (within {wait}) and I will make it talk."
)
TOO_BIG = (
    "That file is {size} — Telegram lets bots download at most {limit}. Please send a smaller "
    "or more compressed file."
)
FILE_GONE = (
    "I could not get that file from Telegram (it may have expired). Please send the file again."
)
END_NEEDS_TWO_PHOTOS = (
    "For a video from one photo to another, send an album of exactly two photos (the first "
    "and the last frame) captioned /i2v <prompt> --end."
)
SETTINGS_CHANGE = "/settings steps 20 quality fast"
SETTINGS_RESET = "/settings reset"
EXTEND_USAGE = "Say which video: /extend <job id> [new prompt], or press ⏩ Extend under it."
PAUSE_USAGE = "Say which host: /pause <host> (see /hosts)."
REFETCH_USAGE = "Say which job: /refetch <job> (a video that was made but not fetched)."
BLOCK_USAGE = "Say who: /block <user id>, or reply /block to one of their messages."
BLOCKED_LIST = "Blocked: {users}"
UNKNOWN_COMMAND = "I don't know /{command}. Send /help for what I can do."
ALBUM_NEEDS_ANIMATE = "Albums are for /animate (or /animate2): caption the album /animate <prompt>."


def options() -> str:
    """Every option of the parameter table, e.g. `--steps N, --cfg X, …`."""
    return ", ".join(f"--{p.name} {p.metavar}" for p in PARAMS)


def help_text(download_limit: int) -> str:
    return HELP.format(options=options(), download_limit=mib(download_limit))


def mib(size: int) -> str:
    return size_text(size)
