"""WanAnimate on ComfyUI's own nodes: a reference photo moved by a prepared pose clip.

For hosts without ComfyUI-WanVideoWrapper. The graph follows Comfy-Org's "Wan2.2 Animate"
template: Wan2.2 Animate 14B (`UNETLoader`, `ModelSamplingSD3` for the flow shift), CLIP vision
H's embedding of the reference image, and per window `WanAnimateToVideo`, `KSampler`,
`TrimVideoLatent` (the node puts the reference image's latent first) and the decode; the frames
go through `CreateVideo` to `SaveVideo` (node 13). The pose clip and the optional face clip are
the MP4s WanBot prepared (`bot.intake`), read by `LoadVideo` and split into frames by
`GetVideoComponents`; the optional background image is repeated to the video's length
(`RepeatImageBatch`), as the wrapper's graph does.

How a pose clip longer than one window is covered: one `WanAnimateToVideo` makes
`params.frame_window` frames. As in Comfy-Org's template, a later window gets the frames made so
far as `continue_motion` (it keeps their last 5, `CONTINUE_FRAMES`; 1 for windows of 5 frames)
and the previous window's `video_frame_offset` output, so it reads the pose, face and
background from where the video so far ends, less those frames. Its decoded frames start with
the repeated ones, cut off (its `trim_image` output) before they are appended
(`workflows.native_windows`). The windows cover `params.frames` (the pose clip's length).

`WanAnimateToVideo` has no pose or face strength and no colour matching: `pose_strength`,
`face_strength` and `color_match` are the wrapper's only. The sampler is ComfyUI's `KSampler`
with WanBot's scheduler translated (`workflows.native`).
"""

from __future__ import annotations

from typing import Any

from workflows.builder import Prompt, probe_request
from workflows.files import FileSet
from workflows.hardware import Hardware, Models
from workflows.native import (
    NEGATIVE,
    POSITIVE,
    START_IMAGE,
    VAE,
    Probe,
    add_save,
    add_text,
    node,
    problems_on,
)
from workflows.native_windows import (
    CLIP_EMBEDS,
    SHIFT,
    Outputs,
    add_clip_vision,
    add_model,
    add_window,
    covered,
    plan_windows,
    trim_to,
    window_id,
)
from workflows.params import GenerationRequest, Mode, Params

POSE_FILE, POSE, BACKGROUND, BACKGROUND_FRAMES, FACE_FILE, FACE = "20", "21", "22", "23", "26", "27"
# Frames of the video so far that a later window continues from (Comfy-Org's template: 5).
CONTINUE_FRAMES = 5
# WanAnimateToVideo's outputs: positive, negative, latent, trim_latent, trim_image, offset.
OUTPUTS = Outputs([SHIFT, 0], 0, 1, 2, 3, 4)
OFFSET = 5


def build_native_animate_prompt(
    request: GenerationRequest,
    uploaded: FileSet[str],
    models: Models,
    hardware: Hardware,
    *,
    filename_prefix: str = "wanbot",
) -> Prompt:
    """The API-format WanAnimate prompt on core nodes for `request`, ready to submit.

    `uploaded.pose` (and `uploaded.face`) hold one prepared clip each. Raises `ValueError` for
    a request this graph cannot make (not animate, no uploaded image or pose clip, a
    scheduler without a core counterpart): a programming error.
    """
    if request.mode is not Mode.ANIMATE:
        raise ValueError(f"the native animate graph makes animate, not {request.mode.value}")
    if not uploaded.image or not uploaded.pose:
        raise ValueError("animate needs uploaded image, pose")
    params = request.params
    prompt: Prompt = {}
    add_text(prompt, models, request.prompt, request.negative_prompt)
    add_model(prompt, models.native_animate, hardware, params, "Wan2.2 Animate 14B")
    prompt[START_IMAGE] = node("LoadImage", "Reference image", image=uploaded.image)
    add_clip_vision(prompt, models)
    guides = _add_guides(prompt, uploaded, params.frames)
    overlap = continue_frames(params)
    lengths = plan_windows(params.frames, params.frame_window, overlap)
    video: list[Any] = []
    for index, length in enumerate(lengths):
        prompt[window_id(index)] = _animate_window(params, length, overlap, guides, index, video)
        video = add_window(prompt, index, OUTPUTS, params, hardware, length - overlap)
    video = trim_to(prompt, video, covered(lengths, overlap), params.frames)
    add_save(prompt, video, params.fps, filename_prefix)
    return prompt


def continue_frames(params: Params) -> int:
    """The frames a later window continues from: `CONTINUE_FRAMES`, or 1 (the node's other
    choice below it) for windows too short to add anything after 5."""
    return CONTINUE_FRAMES if params.frame_window > CONTINUE_FRAMES else 1


def _add_guides(prompt: Prompt, uploaded: FileSet[str], frames: int) -> dict[str, Any]:
    """The pose clip's frames, and the face clip's and background's where given: the
    `WanAnimateToVideo` inputs they feed."""
    prompt[POSE_FILE] = node("LoadVideo", "Pose clip", file=uploaded.pose[0])
    prompt[POSE] = node("GetVideoComponents", "Pose frames", video=[POSE_FILE, 0])
    guides: dict[str, Any] = {"pose_video": [POSE, 0]}
    if uploaded.face:
        prompt[FACE_FILE] = node("LoadVideo", "Face clip", file=uploaded.face[0])
        prompt[FACE] = node("GetVideoComponents", "Face frames", video=[FACE_FILE, 0])
        guides["face_video"] = [FACE, 0]
    if uploaded.background:
        prompt[BACKGROUND] = node("LoadImage", "Background", image=uploaded.background)
        prompt[BACKGROUND_FRAMES] = node(
            "RepeatImageBatch", "Background frames", image=[BACKGROUND, 0], amount=frames
        )
        guides["background_video"] = [BACKGROUND_FRAMES, 0]
    return guides


def _animate_window(
    params: Params, length: int, overlap: int, guides: dict[str, Any], index: int, video: list[Any]
) -> dict[str, Any]:
    """Window `index`'s `WanAnimateToVideo`; later ones continue from `video`, the frames so
    far, at the previous window's offset into the clips."""
    more: dict[str, Any] = {"video_frame_offset": 0}
    if index:
        more = {"continue_motion": video, "video_frame_offset": [window_id(index - 1), OFFSET]}
    return node(
        "WanAnimateToVideo",
        "Animate window",
        positive=[POSITIVE, 0],
        negative=[NEGATIVE, 0],
        vae=[VAE, 0],
        width=params.width,
        height=params.height,
        length=length,
        batch_size=1,
        continue_motion_max_frames=overlap,
        clip_vision_output=[CLIP_EMBEDS, 0],
        reference_image=[START_IMAGE, 0],
        **guides,
        **more,
    )


def missing_for_native_animate(
    object_info: dict[str, Any], models: Models, hardware: Hardware
) -> list[str]:
    """What a host lacks to animate on ComfyUI's own nodes, as its schema checks a two-window
    probe with a face clip and a background: a core node class its ComfyUI is too old for, or
    a model file it does not have. Empty: it can."""
    base = probe_request()
    params = base.params.model_copy(update={"quality": "standard", "split": 0, "frames": 153})
    request = Probe(Mode.ANIMATE, base.prompt, base.negative_prompt, params)
    uploaded = FileSet[str](
        image="probe.png", pose=["pose.mp4"], face=["face.mp4"], background="background.png"
    )
    prompt = build_native_animate_prompt(request, uploaded, models, hardware)
    return problems_on(prompt, object_info)
