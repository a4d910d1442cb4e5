"""The fake ComfyUI's jobs API, answered as ComfyUI 0.33 does, by a fake whose version has it.

`GET /api/jobs/{id}` came with ComfyUI 0.6.0 and `POST /api/jobs/{id}/cancel` with 0.26.0; a
fake whose `version` is older answers them 404 with aiohttp's plain text, as a ComfyUI without
the route does. A job is looked for in the history first, then the queue (like ComfyUI); an
unknown id is a JSON 404. A cancel interrupts the running prompt or dequeues a pending one in
one step, and answers `{"cancelled": false}` for a finished or unknown one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from fakes.comfy_server import FakeComfy
    from fakes.comfy_state import Job

GET_SINCE = (0, 6)
CANCEL_SINCE = (0, 26)
ENDINGS = ("execution_success", "execution_error", "execution_interrupted")


def jobs_routes(fake: FakeComfy) -> list[web.RouteDef]:
    """The two routes, for `FakeComfy`'s router."""

    async def get_job(request: web.Request) -> web.Response:
        _require(fake, GET_SINCE)
        job = describe_job(fake, request.match_info["job_id"])
        if job is None:
            return web.json_response({"error": "Job not found"}, status=404)
        return web.json_response(job)

    async def cancel_job(request: web.Request) -> web.Response:
        _require(fake, CANCEL_SINCE)
        return web.json_response({"cancelled": await cancel(fake, request.match_info["job_id"])})

    return [
        web.get("/api/jobs/{job_id}", get_job),
        web.post("/api/jobs/{job_id}/cancel", cancel_job),
    ]


def describe_job(fake: FakeComfy, prompt_id: str) -> dict[str, Any] | None:
    """The job as `GET /api/jobs/{id}` shows it; None for an id the host does not know."""
    entry = fake.history.get(prompt_id)
    if entry is not None:
        return _finished(prompt_id, entry)
    if fake.running is not None and fake.running.prompt_id == prompt_id:
        return _queued(fake.running, "in_progress")
    for job in fake.pending:
        if job.prompt_id == prompt_id:
            return _queued(job, "pending")
    return None


async def cancel(fake: FakeComfy, prompt_id: str) -> bool:
    """Interrupt or dequeue `prompt_id` at once (nothing else can move the queue meanwhile)."""
    running = fake.running
    if running is not None and running.prompt_id == prompt_id:
        running.interrupted = True
        running.gate.set()
        fake.interrupts.append(prompt_id)
        fake.changed()
        return True
    if not any(job.prompt_id == prompt_id for job in fake.pending):
        return False  # finished, or never here: nothing to do, and not an error
    fake.pending = [job for job in fake.pending if job.prompt_id != prompt_id]
    fake.deleted.append(prompt_id)
    fake.changed()
    await fake.broadcast_status()
    return True


def _require(fake: FakeComfy, since: tuple[int, ...]) -> None:
    if _version(fake.version) < since:
        raise web.HTTPNotFound()  # the route does not exist on that ComfyUI


def _version(text: str) -> tuple[int, ...]:
    numbers = []
    for part in text.removeprefix("v").split("."):
        digits = part[: len(part) - len(part.lstrip("0123456789"))] or "0"
        numbers.append(int(digits))
    return tuple(numbers)


def _queued(job: Job, status: str) -> dict[str, Any]:
    return {
        "id": job.prompt_id,
        "status": status,
        "priority": job.number,
        "create_time": job.extra_data.get("create_time"),
        "outputs_count": 0,
        "previewable_outputs_count": 0,
    }


def _finished(prompt_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry as a job: its status, times, error, and its outputs in full."""
    number, _, prompt, extra_data, _ = entry["prompt"]
    status = entry.get("status") or {}
    events = {str(kind): data for kind, data in status.get("messages") or []}
    if status.get("status_str") != "error":
        state = "completed"
    else:
        state = "cancelled" if "execution_interrupted" in events else "failed"
    ended = next((events[k] for k in ENDINGS if k in events), {})
    outputs = entry.get("outputs") or {}
    job = {
        "id": prompt_id,
        "status": state,
        "priority": number,
        "create_time": extra_data.get("create_time"),
        "execution_start_time": events.get("execution_start", {}).get("timestamp"),
        "execution_end_time": ended.get("timestamp"),
        "execution_error": events.get("execution_error"),
        "outputs_count": sum(
            len(items)
            for node in outputs.values()
            for kind, items in node.items()
            if kind != "animated"  # a flag, not files
        ),
        "outputs": outputs,
        "execution_status": status,
        "workflow": {"prompt": prompt, "extra_data": extra_data},
    }
    return {key: value for key, value in job.items() if value is not None}
