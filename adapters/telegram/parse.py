"""From Telegram messages to a platform-neutral draft request (files still on Telegram).

Pure functions over `telegram.Message`: which command was sent, which attachments of the
message and of the message it replies to are the image, the audio or the pose input, and so
which mode is meant. Nothing here touches the network; `files.py` downloads what a draft names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from telegram import Message

from adapters.telegram import texts
from bot.frontend import InputError, Mode, ParameterError, parse_command, prompt_or_default

Kind = Literal["image", "audio", "video", "zip"]

# `/command`, `/command@botname`, then the rest. Telegram allows 1-32 [A-Za-z0-9_] characters.
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{3,64}))?(?=\s|$)(.*)$", re.S)
JOB_COMMANDS = {
    "i2v": Mode.I2V,
    "talk": Mode.INFINITETALK,
    "animate": Mode.ANIMATE,
    "animate2": Mode.ANIMATE2,
}
ALIASES = {
    "infinitetalk": "talk",
    "wananimate": "animate",
    "video": "i2v",
    "wananimate2": "animate2",
    "animate_2": "animate2",
}
# An album item captioned with this word starts the face images (WanAnimate).
FACE_MARKER = "face"
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})


@dataclass(frozen=True)
class Command:
    name: str
    args: str


@dataclass(frozen=True)
class FileRef:
    """A file on Telegram's servers: what `getFile` needs, and what it will be saved as."""

    file_id: str
    size: int | None
    kind: Kind
    name: str


@dataclass
class Draft:
    """A job request whose files are still on Telegram."""

    mode: Mode
    prompt: str
    overrides: dict[str, Any]
    image: FileRef
    audio: FileRef | None = None
    pose: list[FileRef] = field(default_factory=list)
    face: list[FileRef] = field(default_factory=list)
    end: FileRef | None = None

    def files(self) -> list[FileRef]:
        refs = [self.image, *self.pose, *self.face]
        return refs + [r for r in (self.audio, self.end) if r is not None]


@dataclass(frozen=True)
class AwaitPhoto:
    """`/talk` replying to audio without a photo: the next photo from the user completes it."""

    prompt: str
    overrides: dict[str, Any]
    audio: FileRef


def command_of(text: str | None, bot_username: str) -> Command | None:
    """The command at the start of `text`, unless it is addressed to another bot."""
    if not text:
        return None
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    name, target, rest = match.groups()
    if target is not None and target.lower() != bot_username.lower():
        return None
    name = ALIASES.get(name.lower(), name.lower())
    return Command(name, rest.strip())


def message_command(message: Message, bot_username: str) -> Command | None:
    return command_of(message.text or message.caption, bot_username)


def _ext(name: str | None, default: str) -> str:
    if name and "." in name:
        ext = name.rsplit(".", 1)[1].lower()
        if ext.isalnum() and len(ext) <= 5:
            return "." + ext
    return default


def image_of(message: Message | None) -> FileRef | None:
    """The photo (largest size) or an image sent as a document."""
    if message is None:
        return None
    if message.photo:
        best = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return FileRef(best.file_id, best.file_size, "image", "image.jpg")
    doc = message.document
    if doc is not None and (doc.mime_type or "").startswith("image/"):
        return FileRef(doc.file_id, doc.file_size, "image", "image" + _ext(doc.file_name, ".png"))
    return None


def audio_of(message: Message | None) -> FileRef | None:
    """A voice note, an audio file, or an audio document."""
    if message is None:
        return None
    if message.voice is not None:
        return FileRef(message.voice.file_id, message.voice.file_size, "audio", "audio.ogg")
    if message.audio is not None:
        a = message.audio
        return FileRef(a.file_id, a.file_size, "audio", "audio" + _ext(a.file_name, ".mp3"))
    doc = message.document
    if doc is not None and (doc.mime_type or "").startswith("audio/"):
        return FileRef(doc.file_id, doc.file_size, "audio", "audio" + _ext(doc.file_name, ".ogg"))
    return None


def video_of(message: Message | None) -> FileRef | None:
    """A video, a round video note, a GIF animation or a video document (a pose clip)."""
    if message is None:
        return None
    for item in (message.video, message.video_note, message.animation):
        if item is not None:
            return FileRef(item.file_id, item.file_size, "video", "pose.mp4")
    doc = message.document
    if doc is not None and (doc.mime_type or "").startswith("video/"):
        return FileRef(doc.file_id, doc.file_size, "video", "pose" + _ext(doc.file_name, ".mp4"))
    return None


def zip_of(message: Message | None) -> FileRef | None:
    """A zip document: pose frames, unpacked in name order by the engine."""
    doc = message.document if message is not None else None
    if doc is None:
        return None
    if (doc.mime_type or "") in ZIP_TYPES or (doc.file_name or "").lower().endswith(".zip"):
        return FileRef(doc.file_id, doc.file_size, "zip", "pose.zip")
    return None


def pose_of(message: Message | None) -> FileRef | None:
    """Pose frames sent as one file: a video or a zip of images."""
    return video_of(message) or zip_of(message)


def speech_of(message: Message | None) -> FileRef | None:
    """Speech for InfiniteTalk: audio, or the sound track of a video or round video note."""
    audio = audio_of(message)
    if audio is not None or message is None:
        return audio
    for item in (message.video, message.video_note):
        if item is not None:
            return FileRef(item.file_id, item.file_size, "audio", "speech.mp4")
    doc = message.document
    if doc is not None and (doc.mime_type or "").startswith("video/"):
        return FileRef(doc.file_id, doc.file_size, "audio", "speech" + _ext(doc.file_name, ".mp4"))
    return None


def _words(command: Command, mode: Mode) -> tuple[str, dict[str, Any]]:
    parsed = parse_command(command.args, mode)
    try:
        return prompt_or_default(mode, parsed.prompt), parsed.overrides
    except ParameterError:
        raise InputError(texts.NEED_PROMPT.format(command=command.name)) from None


def draft_from_message(message: Message, command: Command) -> Draft | AwaitPhoto:
    """The request one message (and the message it replies to) makes. Raises `UserError`."""
    mode = JOB_COMMANDS[command.name]
    if wants_end(command):
        raise InputError(texts.END_NEEDS_TWO_PHOTOS)
    reply = message.reply_to_message
    own_image = image_of(message)
    if mode is Mode.I2V and own_image is not None and audio_of(reply) is not None:
        mode = Mode.INFINITETALK  # a photo captioned /i2v that replies to audio: InfiniteTalk
    prompt, overrides = _words(command, mode)

    if mode is Mode.I2V:
        image = own_image or image_of(reply)
        if image is None:
            raise InputError(texts.NOT_AN_IMAGE)
        return Draft(mode, prompt, overrides, image)

    if mode is Mode.INFINITETALK:
        own_speech = speech_of(message)
        image = own_image or image_of(reply)
        audio = own_speech or speech_of(reply)
        if audio is None:
            raise InputError(texts.NOT_AUDIO)
        if image is None:
            if own_speech is None and reply is not None:
                return AwaitPhoto(prompt, overrides, audio)
            raise InputError(texts.TALK_NEEDS_PHOTO)
        return Draft(mode, prompt, overrides, image, audio=audio)

    if mode is Mode.ANIMATE2:
        # A photo replying to the video, or the video captioned /animate2 replying to the photo.
        if own_image is not None:
            image, video = own_image, video_of(reply)
        else:
            image, video = image_of(reply), video_of(message)
        return _animate2(prompt, overrides, image, video)

    # WanAnimate from one message: a photo replying to the pose video or zip, or the video or
    # zip captioned /animate replying to the photo.
    if own_image is not None:
        image, pose = own_image, pose_of(reply)
    else:
        image, pose = image_of(reply), pose_of(message)
    if image is None:
        raise InputError(texts.ANIMATE_NEEDS_PHOTO)
    if pose is None:
        raise InputError(texts.ANIMATE_NEEDS_POSE)
    return Draft(mode, prompt, overrides, image, pose=[pose])


def _animate2(
    prompt: str, overrides: dict[str, Any], image: FileRef | None, video: FileRef | None
) -> Draft:
    if image is None:
        raise InputError(texts.ANIMATE2_NEEDS_PHOTO)
    if video is None:
        raise InputError(texts.ANIMATE2_NEEDS_VIDEO)
    return Draft(Mode.ANIMATE2, prompt, overrides, image, pose=[video])


def draft_from_pair(messages: Sequence[Message], command: Command) -> Draft:
    """Wan-Animate-2 from an album of one photo and one video. Raises `UserError`."""
    prompt, overrides = _words(command, Mode.ANIMATE2)
    images = [ref for m in messages if (ref := image_of(m)) is not None]
    videos = [ref for m in messages if (ref := video_of(m)) is not None]
    if len(messages) != 2 or len(images) != 1 or len(videos) != 1:
        raise InputError(texts.ANIMATE2_ALBUM)
    return _animate2(prompt, overrides, images[0], videos[0])


def draft_from_album(messages: Sequence[Message], command: Command) -> Draft:
    """WanAnimate from an album: the first image is the reference, the rest pose frames.

    Items from the one captioned `face` on are face images. A video (or, in an album of
    documents, a zip) is the pose clip. Raises `UserError`.
    """
    mode = Mode.ANIMATE
    prompt, overrides = _words(command, mode)
    ordered = sorted(messages, key=lambda m: m.message_id)
    reference: FileRef | None = None
    pose: list[FileRef] = []
    face: list[FileRef] = []
    in_face = False
    for item in ordered:
        caption = (item.caption or "").strip().lower()
        if caption == FACE_MARKER:
            in_face = True
        ref = image_of(item) or pose_of(item)
        if ref is None:
            raise InputError(texts.ALBUM_ITEM_UNUSABLE)
        if reference is None:
            if ref.kind != "image":
                raise InputError(texts.ANIMATE_NEEDS_PHOTO)
            reference = ref
            continue
        (face if in_face else pose).append(ref)
    if reference is None:
        raise InputError(texts.ANIMATE_NEEDS_PHOTO)
    if not pose:
        raise InputError(texts.ANIMATE_NEEDS_POSE)
    numbered = [
        FileRef(r.file_id, r.size, r.kind, f"pose_{i:04d}{_ext(r.name, '.jpg')}")
        for i, r in enumerate(pose)
    ]
    faces = [
        FileRef(r.file_id, r.size, r.kind, f"face_{i:04d}{_ext(r.name, '.jpg')}")
        for i, r in enumerate(face)
    ]
    return Draft(mode, prompt, overrides, reference, pose=numbered, face=faces)


END_FLAG = re.compile(r"(^|\s)(--|—)end(?=\s|$)")


def wants_end(command: Command) -> bool:
    """`/i2v … --end`: the album's second photo is the last frame."""
    return command.name == "i2v" and END_FLAG.search(command.args) is not None


def draft_with_end(messages: Sequence[Message], command: Command) -> Draft:
    """Image to video from a two-photo album captioned `/i2v … --end`: the first photo starts
    the video, the second ends it. Raises `UserError`."""
    args = END_FLAG.sub(" ", command.args).strip()
    prompt, overrides = _words(Command(command.name, args), Mode.I2V)
    images = [image_of(m) for m in sorted(messages, key=lambda m: m.message_id)]
    photos = [i for i in images if i is not None]
    if len(photos) != 2 or len(images) != 2:
        raise InputError(texts.END_NEEDS_TWO_PHOTOS)
    first, last = photos
    end = FileRef(last.file_id, last.size, last.kind, f"end{_ext(last.name, '.jpg')}")
    return Draft(Mode.I2V, prompt, overrides, first, end=end)


def drafts_per_photo(messages: Sequence[Message], command: Command) -> list[Draft]:
    """`/i2v` on an album: one image-to-video draft per photo, the same prompt and flags."""
    prompt, overrides = _words(command, Mode.I2V)
    ordered = sorted(messages, key=lambda m: m.message_id)
    photos = [image_of(m) for m in ordered]
    if any(p is None for p in photos):
        raise InputError(texts.ALBUM_ITEM_UNUSABLE)
    return [Draft(Mode.I2V, prompt, dict(overrides), p) for p in photos if p is not None]


def album_command(messages: Sequence[Message], bot_username: str) -> Command | None:
    """The command in an album's captions (Telegram shows one caption; any item may hold it)."""
    for item in sorted(messages, key=lambda m: m.message_id):
        command = message_command(item, bot_username)
        if command is not None:
            return command
    return None
