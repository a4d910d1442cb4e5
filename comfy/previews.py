"""Preview images in ComfyUI's binary websocket frames, as ComfyUI 0.33 and the Wan nodes send
them while sampling.

A binary frame is a 4-byte big-endian event type, then its payload (`protocol.py`
`BinaryEventTypes`, `server.py` `send_image`, `send_image_with_metadata`):

- event 4, `PREVIEW_IMAGE_WITH_METADATA` (to clients that announced
  `supports_preview_metadata` in their first `feature_flags` message): a 4-byte length, that
  much JSON (`prompt_id`, `node_id`, `image_type`), then the image;
- event 1, `PREVIEW_IMAGE` (to other clients): a 4-byte image format (1 JPEG, 2 PNG), then the
  image. It names no prompt: the caller knows which one is executing.
- kijai's WanVideoWrapper sends its own event 1 frames for video latents (VideoHelperSuite's
  animated previews, used by the InfiniteTalk loop and by TAE previews) whatever the client
  announced: two 4-byte 1s, a 4-byte frame index, the node id as a 16-byte Pascal string, then
  a JPEG of one frame.

Anything else (other events, unknown layouts) is not a preview: `parse_preview` returns None.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
FORMATS = {1: "image/jpeg", 2: "image/png"}
VHS_HEADER = 4 + 4 + 16  # the wrapper's marker, frame index and node id after the format
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass(frozen=True, slots=True)
class PreviewFrame:
    """One preview image; `prompt_id` None when the frame does not say (event 1)."""

    image: bytes
    mime: str
    prompt_id: str | None = None


def parse_preview(frame: bytes) -> PreviewFrame | None:
    """The preview in one binary websocket frame, or None if it holds none."""
    if len(frame) < 8:
        return None
    (event,) = struct.unpack_from(">I", frame)
    if event == PREVIEW_IMAGE_WITH_METADATA:
        return _with_metadata(frame[4:])
    if event == PREVIEW_IMAGE:
        return _plain(frame[4:])
    return None


def _with_metadata(payload: bytes) -> PreviewFrame | None:
    (length,) = struct.unpack_from(">I", payload)
    if len(payload) < 4 + length:
        return None
    try:
        meta = json.loads(payload[4 : 4 + length])
    except ValueError:
        return None
    image = payload[4 + length :]
    mime = _mime(image)
    if not isinstance(meta, dict) or mime is None:
        return None
    prompt_id = meta.get("prompt_id")
    return PreviewFrame(image, mime, None if prompt_id is None else str(prompt_id))


def _plain(payload: bytes) -> PreviewFrame | None:
    (kind,) = struct.unpack_from(">I", payload)
    image = payload[4:]
    if kind in FORMATS and _mime(image) == FORMATS[kind]:
        return PreviewFrame(image, FORMATS[kind])
    image = payload[4 + VHS_HEADER :]
    mime = _mime(image)
    return None if mime is None else PreviewFrame(image, mime)


def _mime(image: bytes) -> str | None:
    return next((m for magic, m in _MAGIC.items() if image.startswith(magic)), None)
