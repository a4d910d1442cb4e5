"""How the fake ComfyUI "runs" a prompt: the event sequence, the outputs, the history entry.

Event order follows ComfyUI 0.33 (execution.py / main.py): execution_start, execution_cached,
executing per node, progress (+ preview frames) in the sampler, executed for output nodes,
execution_success (or execution_error / execution_interrupted), history written, then
`executing` with node null. SVI prompts make traceable clips and latents (`comfy_latents`).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from fakes import media
from fakes.comfy_frames import frames_at
from fakes.comfy_latents import ClipPlan, ClipRecord, latent_bytes, plan_clip, sampler_seed
from fakes.comfy_previews import send_previews

if TYPE_CHECKING:
    from fakes.comfy_server import FakeComfy, Job

SIZE_KEYS = {"width": "width", "height": "height"}
FRAME_KEYS = ("num_frames", "length", "frame_count", "frames")
STATUS_KINDS = {
    "execution_start",
    "execution_cached",
    "execution_success",
    "execution_error",
    "execution_interrupted",
}


class _Stop(Exception):
    """The job ended early (error or interrupt); the status message is already recorded."""


class JobRunner:
    def __init__(self, fake: FakeComfy) -> None:
        self.fake = fake
        self.counters: dict[str, int] = {}

    async def run(self, job: Job) -> None:
        messages: list[list[Any]] = []
        ui_outputs: dict[str, Any] = {}
        executed: list[str] = []
        ok = True
        try:
            await self._emit(job, messages, "execution_start", {"prompt_id": job.prompt_id})
            await self._emit(
                job, messages, "execution_cached", {"nodes": [], "prompt_id": job.prompt_id}
            )
            order = _execution_order(job.prompt, job.outputs)
            sampler = _progress_node(job.prompt, order, self.fake.object_info)
            plan = plan_clip(job.prompt, self.fake.uploads)
            for node_id in order:
                data = {"node": node_id, "display_node": node_id, "prompt_id": job.prompt_id}
                await self._emit(job, messages, "executing", data)
                if plan is not None and plan.failure and node_id == plan.load_node:
                    failure = plan.failure
                    await self._fail(job, messages, node_id, executed, str(failure), failure.kind)
                if node_id == sampler:
                    await self._sample(job, messages, node_id, executed)
                if node_id in job.outputs:
                    output = await self._produce(job, node_id, plan)
                    ui_outputs[node_id] = output
                    data = {
                        "node": node_id,
                        "display_node": node_id,
                        "output": output,
                        "prompt_id": job.prompt_id,
                    }
                    await self._emit(job, messages, "executed", data)
                executed.append(node_id)
            await self._emit(job, messages, "execution_success", {"prompt_id": job.prompt_id})
        except _Stop:
            ok = False
        meta = {
            n: {"node_id": n, "display_node": n, "parent_node": None, "real_node_id": n}
            for n in ui_outputs
        }
        self.fake.history[job.prompt_id] = {
            "prompt": job.queue_item(),
            "outputs": ui_outputs if ok else {},
            "status": {
                "status_str": "success" if ok else "error",
                "completed": ok,
                "messages": messages,
            },
            "meta": meta if ok else {},
        }
        job.history_lag = self.fake.history_lag
        self.fake.changed()
        await self.fake.send(job.client_id, "executing", {"node": None, "prompt_id": job.prompt_id})

    async def _sample(
        self, job: Job, messages: list[list[Any]], node_id: str, executed: list[str]
    ) -> None:
        steps = max(1, self.fake.steps)
        seconds = self.fake.job_seconds
        if callable(seconds):  # a GPU time that depends on the prompt (frames, steps, size)
            seconds = seconds(job.prompt)
        for step in range(1, steps + 1):
            await self._check_interrupt(job, messages, node_id, executed)
            progress = {"value": step, "max": steps, "prompt_id": job.prompt_id, "node": node_id}
            await self.fake.send(job.client_id, "progress", progress)
            await send_previews(self.fake, job, node_id, step)
            if step == 1:
                if self.fake.drop_ws_mid_job:
                    await self.fake.drop_websockets()
                await job.gate.wait()
            if seconds:
                await asyncio.sleep(seconds / steps)
            else:
                await asyncio.sleep(0)
        await self._check_interrupt(job, messages, node_id, executed)
        if self.fake.fail_with is not None:
            await self._fail(job, messages, node_id, executed, self.fake.fail_with)

    async def _fail(
        self,
        job: Job,
        messages: list[list[Any]],
        node_id: str,
        executed: list[str],
        message: str,
        kind: str = "RuntimeError",
    ) -> None:
        """Node `node_id` raised `kind(message)`: the job ends with `execution_error`."""
        data = {
            "prompt_id": job.prompt_id,
            "node_id": node_id,
            "node_type": job.prompt[node_id]["class_type"],
            "executed": list(executed),
            "exception_message": message,
            "exception_type": kind,
            "traceback": ['  File "execution.py", line 1, in execute\n'],
            "current_inputs": {},
            "current_outputs": [],
        }
        await self._emit(job, messages, "execution_error", data)
        raise _Stop

    async def _check_interrupt(
        self, job: Job, messages: list[list[Any]], node_id: str, executed: list[str]
    ) -> None:
        if job.interrupted:
            data = {
                "prompt_id": job.prompt_id,
                "node_id": node_id,
                "node_type": job.prompt[node_id]["class_type"],
                "executed": list(executed),
            }
            # ComfyUI broadcasts this one; the fake sends it to the job's client only.
            await self._emit(job, messages, "execution_interrupted", data)
            raise _Stop

    async def _emit(
        self, job: Job, messages: list[list[Any]], kind: str, data: dict[str, Any]
    ) -> None:
        if kind in STATUS_KINDS:
            data = {**data, "timestamp": int(time.time() * 1000)}
            messages.append([kind, data])
        await self.fake.send(job.client_id, kind, data)

    async def _produce(self, job: Job, node_id: str, plan: ClipPlan | None) -> dict[str, Any]:
        class_type = job.prompt[node_id]["class_type"]
        inputs = job.prompt[node_id].get("inputs", {})
        width, height, frames, fps = self._shape(job.prompt)
        clip = None if plan is None else plan.clip
        if class_type == "SaveLatent":
            return self._save_latent(job, node_id, clip or 0, width, height)
        video = functools.partial(
            media.mp4_bytes, width=width, height=height, frames=frames, clip=clip
        )
        if class_type == "VHS_VideoCombine":
            return await self._vhs_video(inputs, video, float(inputs.get("frame_rate", fps)))
        return await self._save_video(job, inputs, video, fps)

    async def _vhs_video(
        self, inputs: dict[str, Any], video: Callable[..., bytes], fps: float
    ) -> dict[str, Any]:
        """VHS_VideoCombine: `<prefix>_00001.mp4`, and `-audio.mp4` beside it with audio."""
        audio = isinstance(inputs.get("audio"), list)
        subfolder, name, counter = self._next_name(
            str(inputs.get("filename_prefix", "AnimateDiff"))
        )
        base = f"{name}_{counter:05}"
        files = [f"{base}.mp4"] + ([f"{base}-audio.mp4"] if audio else [])
        for index, filename in enumerate(files):
            data = await asyncio.to_thread(video, fps=fps, audio=index == 1)
            self.fake.files[("output", subfolder, filename)] = data
        preview = {
            "filename": files[-1],
            "subfolder": subfolder,
            "type": "output",
            "format": str(inputs.get("format", "video/h264-mp4")),
            "frame_rate": fps,
            "workflow": f"{base}.png",
            "fullpath": f"/comfy/output/{PurePosixPath(subfolder, files[-1])}",
        }
        return {"gifs": [preview]}

    async def _save_video(
        self, job: Job, inputs: dict[str, Any], video: Callable[..., bytes], fps: float
    ) -> dict[str, Any]:
        """Core SaveVideo: `<prefix>_00001_.mp4`, with audio if its CreateVideo has some."""
        subfolder, name, counter = self._next_name(
            str(inputs.get("filename_prefix", "video/ComfyUI"))
        )
        filename = f"{name}_{counter:05}_.mp4"
        audio = any(
            n.get("class_type") == "CreateVideo"
            and isinstance(n.get("inputs", {}).get("audio"), list)
            for n in job.prompt.values()
        )
        data = await asyncio.to_thread(video, fps=fps, audio=audio)
        self.fake.files[("output", subfolder, filename)] = data
        return {
            "images": [{"filename": filename, "subfolder": subfolder, "type": "output"}],
            "animated": [True],
        }

    def _save_latent(
        self, job: Job, node_id: str, clip: int, width: int, height: int
    ) -> dict[str, Any]:
        """SaveLatent: `<prefix>_00001_.latent` (ComfyUI's own counter format) with the clip's
        number and seed inside; a SaveLatent outside an SVI prompt records clip 0."""
        prefix = str(job.prompt[node_id].get("inputs", {}).get("filename_prefix", "ComfyUI"))
        subfolder, name, counter = self._next_name(prefix)
        filename = f"{name}_{counter:05}_.latent"
        record = ClipRecord(clip, sampler_seed(job.prompt, node_id))
        data = latent_bytes(record, job.prompt, width, height)
        self.fake.files[("output", subfolder, filename)] = data
        return {"latents": [{"filename": filename, "subfolder": subfolder, "type": "output"}]}

    def _shape(self, prompt: dict[str, Any]) -> tuple[int, int, int, float]:
        found: dict[str, float] = {}
        for node in prompt.values():
            for key, value in node.get("inputs", {}).items():
                numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
                if numeric and (key in SIZE_KEYS or key in FRAME_KEYS or key == "fps"):
                    found.setdefault(key, value)
        scale = self.fake.scale
        width = int(found.get("width", 832) * scale)
        height = int(found.get("height", 480) * scale)
        # A graph that cuts and joins clips (Wan-Animate-2) says how many frames it makes.
        traced = (
            frames_at(prompt, node.get("inputs", {}).get("images"))
            for node in prompt.values()
            if node.get("class_type") == "CreateVideo"
        )
        frames = next((f for f in traced if f), None) or next(
            (int(found[k]) for k in FRAME_KEYS if k in found), 9
        )
        return width, height, max(1, min(frames, self.fake.max_frames)), float(found.get("fps", 16))

    def _next_name(self, prefix: str) -> tuple[str, str, int]:
        path = PurePosixPath(prefix)
        subfolder = "" if str(path.parent) == "." else str(path.parent)
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return subfolder, path.name, self.counters[prefix]


def _execution_order(prompt: dict[str, Any], outputs: list[str]) -> list[str]:
    """Dependencies first, each node once: the order ComfyUI would execute them in."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(node_id: str) -> None:
        if node_id in seen or node_id not in prompt:
            return
        seen.add(node_id)
        for value in prompt[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2:
                visit(str(value[0]))
        order.append(node_id)

    for output in sorted(outputs):
        visit(output)
    return order


def _progress_node(prompt: dict[str, Any], order: list[str], object_info: dict[str, Any]) -> str:
    """The sampler if there is one, else the last node before the outputs."""
    for node_id in order:
        class_type = prompt[node_id]["class_type"]
        returns = object_info.get(class_type, {}).get("output", [])
        if "Sampler" in class_type and "LATENT" in returns:
            return node_id
    not_outputs = [
        n for n in order if not object_info.get(prompt[n]["class_type"], {}).get("output_node")
    ]
    return (not_outputs or order)[-1]
