"""InfiniteTalk on ComfyUI's own nodes: a photo that speaks an audio, as long as the audio.

For hosts without ComfyUI-WanVideoWrapper. The graph follows Comfy-Org's "Wan2.1 InfiniteTalk"
template: the Wan2.1 I2V 14B model (`UNETLoader`, `ModelSamplingSD3` for the flow shift), the
InfiniteTalk patch (`ModelPatchLoader`), wav2vec2 (`AudioEncoderLoader`) encoding the speech
(`LoadAudio`, `AudioEncoderEncode`), and per window `WanInfiniteTalkToVideo` (one speaker,
the start image, CLIP vision H's embedding of it), `KSampler` and the decode. The frames go
through `CreateVideo` with the audio to `SaveVideo` (node 13).

How a long audio is covered: one `WanInfiniteTalkToVideo` makes one window of
`params.frame_window` frames (Comfy-Org's template: 81). The template extends a video by
copying its "Video Extend" group by hand; WanBot builds the same chain itself, as many windows
as `params.frames` (the audio's length at 25 fps, set when the job was prepared) needs
(`workflows.native_windows.plan_windows`). Window k > 0 gets every frame made so far as
`previous_frames`: the node takes its last `motion_frame` frames as motion context and starts
its slice of the audio where the video so far ends, less those frames. Its decoded frames start
with those repeated frames, which are cut off (its `trim_image` output) before they are
appended to the video so far (`BatchImagesNode`). The last window is cut to what is left, and
the whole to `params.frames` where the windows overshoot by a few frames.

The node reads the speech at 25 frames a second, WanBot's default `fps` for this mode: another
`--fps` makes the video's frames and the audio drift apart here (the wrapper's audio embeds
take the fps).
`params.motion_frame` is the node's `motion_frame_count`, which it allows up to 33. The
sampler is ComfyUI's `KSampler` with WanBot's scheduler translated (`workflows.native`).
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

AUDIO, PATCH, AUDIO_ENCODER, AUDIO_EMBEDS = "16", "72", "73", "74"
# WanInfiniteTalkToVideo's range for `motion_frame_count`.
MAX_MOTION_FRAMES = 33


def motion_frames(params: Params) -> int:
    """The frames each later window repeats: the request's, within what the node allows."""
    return max(1, min(params.motion_frame, MAX_MOTION_FRAMES))


def build_native_talk_prompt(
    request: GenerationRequest,
    uploaded: FileSet[str],
    models: Models,
    hardware: Hardware,
    *,
    filename_prefix: str = "wanbot",
) -> Prompt:
    """The API-format InfiniteTalk prompt on core nodes for `request`, ready to submit.

    Raises `ValueError` for a request this graph cannot make (not InfiniteTalk, no uploaded
    image or audio, a scheduler without a core counterpart): a programming error.
    """
    if request.mode is not Mode.INFINITETALK:
        raise ValueError(f"the native talk graph makes infinitetalk, not {request.mode.value}")
    if not uploaded.image or not uploaded.audio:
        raise ValueError("infinitetalk needs uploaded image, audio")
    params = request.params
    prompt: Prompt = {}
    add_text(prompt, models, request.prompt, request.negative_prompt)
    add_model(prompt, models.native_talk_model, hardware, params, "Wan2.1 I2V 14B")
    prompt[START_IMAGE] = node("LoadImage", "Start image", image=uploaded.image)
    add_clip_vision(prompt, models)
    _add_audio(prompt, models, uploaded.audio)
    overlap = motion_frames(params)
    lengths = plan_windows(params.frames, params.frame_window, overlap)
    video: list[Any] = []
    for index, length in enumerate(lengths):
        previous = video if index else None
        prompt[window_id(index)] = _talk_window(params, length, overlap, previous)
        outputs = Outputs([window_id(index), 0], 1, 2, 3, None, 4)
        video = add_window(prompt, index, outputs, params, hardware, length - overlap)
    video = trim_to(prompt, video, covered(lengths, overlap), params.frames)
    add_save(prompt, video, params.fps, filename_prefix, audio=[AUDIO, 0])
    return prompt


def _add_audio(prompt: Prompt, models: Models, audio: str) -> None:
    prompt[AUDIO] = node("LoadAudio", "Speech audio", audio=audio)
    prompt[PATCH] = node("ModelPatchLoader", "InfiniteTalk patch", name=models.native_talk_patch)
    prompt[AUDIO_ENCODER] = node(
        "AudioEncoderLoader", "wav2vec2", audio_encoder_name=models.native_audio_encoder
    )
    prompt[AUDIO_EMBEDS] = node(
        "AudioEncoderEncode", "Audio embeds", audio_encoder=[AUDIO_ENCODER, 0], audio=[AUDIO, 0]
    )


def _talk_window(
    params: Params, length: int, overlap: int, previous: list[Any] | None
) -> dict[str, Any]:
    """One window's `WanInfiniteTalkToVideo`; later ones continue from `previous` frames."""
    more = {} if previous is None else {"previous_frames": previous}
    return node(
        "WanInfiniteTalkToVideo",
        "InfiniteTalk window",
        mode="single_speaker",
        model=[SHIFT, 0],
        model_patch=[PATCH, 0],
        positive=[POSITIVE, 0],
        negative=[NEGATIVE, 0],
        vae=[VAE, 0],
        width=params.width,
        height=params.height,
        length=length,
        audio_encoder_output_1=[AUDIO_EMBEDS, 0],
        motion_frame_count=overlap,
        audio_scale=1.0,
        clip_vision_output=[CLIP_EMBEDS, 0],
        start_image=[START_IMAGE, 0],
        **more,
    )


def missing_for_native_talk(
    object_info: dict[str, Any], models: Models, hardware: Hardware
) -> list[str]:
    """What a host lacks to make InfiniteTalk on ComfyUI's own nodes, as its schema checks a
    two-window probe: a core node class its ComfyUI is too old for, or a model file it does
    not have. Empty: it can."""
    base = probe_request()
    params = base.params.model_copy(
        update={"quality": "standard", "split": 0, "frames": 161, "fps": 25.0}
    )
    request = Probe(Mode.INFINITETALK, base.prompt, base.negative_prompt, params)
    uploaded = FileSet[str](image="probe.png", audio="probe.wav")
    return problems_on(build_native_talk_prompt(request, uploaded, models, hardware), object_info)
