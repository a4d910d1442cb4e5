"""Preview frames as ComfyUI 0.33 and kijai's WanVideoWrapper put them on the websocket.

- ComfyUI's own progress hook (`latent2rgb`, `auto`: the wrapper's sampler uses it): event 4
  with a JSON header naming the prompt to a client that announced `supports_preview_metadata`
  in its first `feature_flags` message, else event 1 with a 4-byte image format.
- The wrapper's own previewer (`taesd`, and always in the InfiniteTalk loop): event 1 with
  VideoHelperSuite's header (two 4-byte 1s, a frame index, the node id as a 16-byte Pascal
  string) before each frame's JPEG, whatever the client announced.

Each image is a small JPEG whose colour follows the step, so a test can tell them apart.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
from typing import Any

from PIL import Image

from fakes.comfy_state import ComfyState, Job

PREVIEW_IMAGE = 1
PREVIEW_IMAGE_WITH_METADATA = 4
JPEG = 1


def preview_jpeg(step: int, size: tuple[int, int] = (32, 18)) -> bytes:
    """A small JPEG whose colour changes with `step`."""
    shade = (40 * step) % 256
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade, 255 - shade, 128)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def preview_frames(
    method: str, *, metadata: bool, prompt_id: str, node: str, step: int, wrapper: bool
) -> list[bytes]:
    """The binary frames one sampler step sends with `preview_method` = `method` (none for
    "none"); `wrapper`: the wrapper's own previewer sends them (the InfiniteTalk loop)."""
    if method in ("", "none", "default"):
        return []
    image = preview_jpeg(step)
    if wrapper or method == "taesd":
        header = struct.pack(">IIII", PREVIEW_IMAGE, 1, 1, step % 4) + struct.pack(
            "16p", node.encode()
        )
        return [header + image]
    if metadata:
        meta = json.dumps(
            {
                "node_id": node,
                "prompt_id": prompt_id,
                "display_node_id": node,
                "parent_node_id": None,
                "real_node_id": node,
                "image_type": "image/jpeg",
            }
        ).encode()
        return [struct.pack(">II", PREVIEW_IMAGE_WITH_METADATA, len(meta)) + meta + image]
    return [struct.pack(">II", PREVIEW_IMAGE, JPEG) + image]


async def send_previews(fake: ComfyState, job: Job, node: str, step: int) -> None:
    """The preview frames of one sampler step to the job's client, as the real host sends
    them; none without a `preview_method`."""
    ws = fake.sockets.get(job.client_id or "")
    if ws is None or ws.closed:
        return
    flags = fake.socket_flags.get(job.client_id or "", {})
    frames = preview_frames(
        str(job.extra_data.get("preview_method") or "none"),
        metadata=bool(flags.get("supports_preview_metadata")),
        prompt_id=job.prompt_id,
        node=node,
        step=step,
        wrapper=_is_talk(job.prompt),
    )
    for frame in frames:
        fake.previews_sent += 1
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_bytes(frame)


def _is_talk(prompt: dict[str, Any]) -> bool:
    """An InfiniteTalk graph: its sampler runs the wrapper's own loop and previewer."""
    return any("MultiTalk" in str(node.get("class_type")) for node in prompt.values())
