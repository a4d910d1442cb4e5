"""How many frames the images at a link of a prompt hold, traced the way ComfyUI's core image
nodes would make them: what the fake "renders" for graphs that cut and join clips.

Facts from ComfyUI 0.33 (nodes.py ImageBatch, nodes_images.py ImageFromBatch, nodes_wan.py
WanAnimate2ToVideo: a decoded clip has the `length` frames its conditioning asked for once
`TrimVideoLatent` has dropped the reference frame). The code is our own.
"""

from __future__ import annotations

from typing import Any


def frames_at(prompt: dict[str, Any], link: Any) -> int | None:
    """The frame count of the images at `link`, or None where the graph does not say (an
    image loaded from a file, a node the fake does not know)."""
    node = _node(prompt, link)
    if node is None:
        return None
    inputs = node.get("inputs", {})
    kind = node.get("class_type")
    if kind == "ImageBatch":
        first, second = (
            frames_at(prompt, inputs.get("image1")),
            frames_at(prompt, inputs.get("image2")),
        )
        return None if first is None or second is None else first + second
    if kind == "ImageFromBatch":
        whole = frames_at(prompt, inputs.get("image"))
        start, length = inputs.get("batch_index"), inputs.get("length")
        if whole is None or not isinstance(start, int) or not isinstance(length, int):
            return None
        start = start if start >= 0 else max(0, whole + start)
        return max(0, min(length, whole - start))
    if kind in ("VAEDecode", "VAEDecodeTiled"):
        return _clip_length(prompt, inputs.get("samples"))
    return None


def _clip_length(prompt: dict[str, Any], link: Any) -> int | None:
    """The `length` of the conditioning a decoded latent comes from, following the sampler
    and the trim back to it."""
    for _ in range(len(prompt)):
        node = _node(prompt, link)
        if node is None:
            return None
        inputs = node.get("inputs", {})
        if node.get("class_type") == "WanAnimate2ToVideo":
            length = inputs.get("length")
            return length if isinstance(length, int) else None
        link = next((inputs[k] for k in ("samples", "latent_image") if k in inputs), None)
    return None


def _node(prompt: dict[str, Any], link: Any) -> dict[str, Any] | None:
    if not (isinstance(link, list) and len(link) == 2):
        return None
    node = prompt.get(str(link[0]))
    return node if isinstance(node, dict) else None
