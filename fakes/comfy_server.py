"""A fake ComfyUI host: a real aiohttp server on 127.0.0.1 speaking ComfyUI's wire format.

    async with FakeComfy(object_info=info) as fake:
        client = ComfyClient(fake.url)

Prompts are validated against `object_info` like ComfyUI does (see `comfy_validation`), run
one at a time, stream the real websocket events to the submitting `client_id`, and leave a
real small MP4 behind under the output key of `VHS_VideoCombine` (`gifs`) or `SaveVideo`
(`images` + `animated`), and `SaveLatent` a `.latent` (`latents`; SVI clips: `comfy_latents`).
Uploads land in its input folder, which `/object_info` lists in the loaders' combos as ComfyUI
does. It reports ComfyUI `version` 0.33.0 unless told otherwise, and answers the jobs API
(`comfy_jobs`) only where that version has it. Tests wait on state with the `wait_*` helpers of
`comfy_state`, never by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
import time
import uuid
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from aiohttp import WSMsgType, web

from fakes.comfy_faults import Fault, answer_fault
from fakes.comfy_jobs import jobs_routes
from fakes.comfy_state import ComfyState, Job, Request
from fakes.comfy_validation import validate_prompt, with_input_folder
from fakes.fake_jobs import JobRunner
from fakes.forms import read_form


class FakeComfy(ComfyState):
    """Fake ComfyUI host. See the module docstring; every knob is also a public attribute."""

    def __init__(
        self,
        object_info: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        hold: bool = False,
        steps: int = 3,
        job_seconds: float | Callable[[dict[str, Any]], float] = 0.0,
        fail_with: str | None = None,
        drop_ws_mid_job: bool = False,
        history_lag: int = 0,
        scale: float = 1 / 8,
        max_frames: int = 25,
        version: str = "0.33.0",
    ) -> None:
        super().__init__()
        self.object_info = object_info or {}
        self.token = token
        self.hold = hold
        self.vram = (0, 0)  # (free, total) bytes that /system_stats reports
        self.version = version  # ComfyUI's, in /system_stats; the jobs API needs 0.26 or later
        self.steps = steps
        self.job_seconds = job_seconds
        self.fail_with = fail_with
        self.drop_ws_mid_job = drop_ws_mid_job
        self.history_lag = history_lag
        self.scale = scale
        self.max_frames = max_frames
        self._work = asyncio.Event()
        self._closing = asyncio.Event()
        self._down = False
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._worker: asyncio.Task[None] | None = None
        self._jobs_runner = JobRunner(self)

    # -- lifecycle -----------------------------------------------------------------------

    async def __aenter__(self) -> FakeComfy:
        app = web.Application(middlewares=[self._middleware], client_max_size=1 << 30)
        app.router.add_routes(
            [
                web.get("/ws", self._ws),
                web.get("/system_stats", self._system_stats),
                web.get("/object_info", self._object_info),
                web.get("/prompt", self._queue_info),
                web.post("/prompt", self._post_prompt),
                web.get("/queue", self._get_queue),
                web.post("/queue", self._post_queue),
                web.post("/interrupt", self._interrupt),
                web.get("/history", self._history_all),
                web.get("/history/{prompt_id}", self._history_one),
                web.get("/view", self._view),
                web.post("/upload/image", self._upload),
                *jobs_routes(self),
            ]
        )
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        self._close_when_down()
        await self._start_site()
        self._worker = asyncio.create_task(self._work_loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def down(self) -> None:
        """Stop answering: new connections are refused, open ones are cut."""
        self._down = True
        if self._site is not None:
            await self._site.stop()
            self._site = None
        await self._close_sockets()
        assert self._runner is not None
        server = self._runner.server
        for handler in list(server.connections if server is not None else []):
            if handler.transport is not None:
                handler.transport.close()

    async def up(self) -> None:
        """Answer again, on the same port."""
        self._down = False
        await self._start_site()

    async def restart(self) -> None:
        """ComfyUI killed and started again at once (between two health checks): its queue,
        running job, history and websockets are gone; uploads and output files stay."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self.pending.clear()
        self.running = None
        self.history.clear()
        self._jobs.clear()
        await self._close_sockets()
        self._worker = asyncio.create_task(self._work_loop())
        self.changed()

    # -- sending events ------------------------------------------------------------------

    async def send(self, client_id: str | None, kind: str, data: dict[str, Any]) -> None:
        """Send to one client, like ComfyUI's `send_sync(event, data, sid)`; lost if absent."""
        ws = self.sockets.get(client_id or "")
        if ws is not None and not ws.closed:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_str(json.dumps({"type": kind, "data": data}))

    async def broadcast_status(self) -> None:
        for sid in list(self.sockets):
            await self.send(sid, "status", {"status": self._exec_info()})

    async def drop_websockets(self) -> None:
        """Cut every websocket and refuse new ones until the running job ends."""
        self.refuse_ws = True
        await self._close_sockets()

    # -- internals -----------------------------------------------------------------------

    def _close_when_down(self) -> None:
        """A connection the listening socket accepted just before `down()` closed it is set
        up only afterwards, so `down()` cannot see it: close it as it is made."""
        assert self._runner is not None and self._runner.server is not None
        server = self._runner.server
        made = server.connection_made

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            made(handler, transport)
            if self._down:
                transport.close()

        server.connection_made = connection_made  # type: ignore[method-assign]

    async def _start_site(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self._port, reuse_address=True)
        await self._site.start()
        if not self._port:
            server = self._site._server  # the bound socket is only reachable here
            assert server is not None
            self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _close_sockets(self) -> None:
        for ws in list(self.sockets.values()):
            await ws.close()
        self.sockets.clear()

    async def _work_loop(self) -> None:
        while True:
            await self._work.wait()
            self._work.clear()
            while self.pending:
                self.pending.sort(key=lambda job: job.number)
                job = self.pending.pop(0)
                self.running = job
                self.changed()
                await self._jobs_runner.run(job)
                self.running = None
                self.refuse_ws = False
                self.changed()
                await self.broadcast_status()

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if self._down and request.transport is not None:
            request.transport.close()
        self.requests.append(Request(request.method, request.path, dict(request.headers)))
        self.changed()
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "Unauthorized"}, status=401)
        for key, (status, content_type, body) in self.answers.items():
            if f"{request.method} {request.path}".startswith(key):
                await request.read()
                return web.Response(status=status, content_type=content_type, text=body)
        began = time.monotonic()
        response: web.StreamResponse = await handler(request)
        self.timings.append((request.method, request.path, began, time.monotonic()))
        return response

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_ws:
            return web.Response(status=503, text="websocket temporarily unavailable")
        if self.stall_ws:
            await self._closing.wait()
            return web.Response(status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = request.query.get("clientId") or uuid.uuid4().hex
        self.sockets[sid] = ws
        self.ws_connects += 1
        self.changed()
        try:
            await self.send(sid, "status", {"status": self._exec_info(), "sid": sid})
            first = True
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
                if first and msg.type == WSMsgType.TEXT:
                    self._feature_flags(sid, msg.data)
                first = False
        finally:
            if self.sockets.get(sid) is ws:
                del self.sockets[sid]
        return ws

    def _feature_flags(self, sid: str, text: str) -> None:
        """A client's first message may announce what it supports (like ComfyUI's server)."""
        with contextlib.suppress(ValueError, AttributeError):
            data = json.loads(text)
            if data.get("type") == "feature_flags":
                self.socket_flags[sid] = dict(data.get("data") or {})

    async def _system_stats(self, request: web.Request) -> web.Response:
        system = {"os": "linux", "comfyui_version": self.version, "python_version": "3.11.7"}
        free, total = self.vram
        kind = "cuda" if total else "cpu"
        devices = [
            {"name": "fake", "type": kind, "index": 0, "vram_total": total, "vram_free": free}
        ]
        return web.json_response({"system": system, "devices": devices})

    async def _object_info(self, request: web.Request) -> web.Response:
        # Like ComfyUI, the loaders' combos list the input folder as it is now.
        return web.json_response(with_input_folder(self.object_info, list(self.uploads)))

    async def _queue_info(self, request: web.Request) -> web.Response:
        return web.json_response(self._exec_info())

    async def _post_prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "prompt" not in body:
            error = {
                "type": "no_prompt",
                "message": "No prompt provided",
                "details": "No prompt provided",
                "extra_info": {},
            }
            return web.json_response({"error": error, "node_errors": {}}, status=400)
        if self.prompt_gate is not None:
            await self.prompt_gate.wait()
        prompt = body["prompt"]
        self.prompts.append(prompt)
        uploaded = set(self.uploads)
        verdict = await asyncio.to_thread(validate_prompt, prompt, self.object_info, uploaded)
        if not verdict.ok:
            return web.json_response(
                {"error": verdict.error, "node_errors": verdict.node_errors}, status=400
            )
        extra_data = dict(body.get("extra_data") or {})
        if "client_id" in body:
            extra_data["client_id"] = body["client_id"]
        extra_data["create_time"] = int(time.time() * 1000)
        self._number += 1
        job = Job(
            str(body.get("prompt_id") or uuid.uuid4()),
            self._number,
            prompt,
            extra_data,
            verdict.outputs,
        )
        if not self.hold:
            job.gate.set()
        self._jobs[job.prompt_id] = job
        self.pending.append(job)
        self.accepted.append(job.prompt_id)
        self._work.set()
        self.changed()
        await self.broadcast_status()
        return web.json_response(
            {"prompt_id": job.prompt_id, "number": job.number, "node_errors": verdict.node_errors}
        )

    async def _get_queue(self, request: web.Request) -> web.Response:
        running = [self.running.queue_item()] if self.running else []
        pending = [job.queue_item() for job in sorted(self.pending, key=lambda j: j.number)]
        return web.json_response({"queue_running": running, "queue_pending": pending})

    async def _post_queue(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clear"):
            self.deleted += [job.prompt_id for job in self.pending]
            self.pending.clear()
        for prompt_id in body.get("delete", []):
            before = len(self.pending)
            self.pending = [job for job in self.pending if job.prompt_id != prompt_id]
            if len(self.pending) < before:
                self.deleted.append(prompt_id)
        self.changed()
        await self.broadcast_status()
        return web.Response(status=200)

    async def _interrupt(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        prompt_id = body.get("prompt_id") if isinstance(body, dict) else None
        self.interrupts.append(prompt_id)
        job = self.running
        if job is not None and (prompt_id is None or job.prompt_id == prompt_id):
            job.interrupted = True
            job.gate.set()
        self.changed()
        return web.Response(status=200)

    async def _history_all(self, request: web.Request) -> web.Response:
        visible = {
            pid: entry for pid, entry in self.history.items() if not self._jobs[pid].history_lag
        }
        return web.json_response(visible)

    async def _history_one(self, request: web.Request) -> web.Response:
        prompt_id = request.match_info["prompt_id"]
        job = self._jobs.get(prompt_id)
        if prompt_id not in self.history or job is None:
            return web.json_response({})
        if job.history_lag > 0:
            job.history_lag -= 1
            self.changed()
            return web.json_response({})
        if self.history_faults:
            return await self._fault(request, self.history_faults.pop(0))
        return web.json_response({prompt_id: self.history[prompt_id]})

    async def _view(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        key = (query.get("type", "output"), query.get("subfolder", ""), query.get("filename", ""))
        if self.view_gate is not None:
            await self.view_gate.wait()
        if self.view_failures > 0:
            self.view_failures -= 1
            return web.Response(status=503, text="busy")
        if self.view_faults:
            return await self._fault(request, self.view_faults.pop(0))
        data = self.files.get(key)
        if data is None:
            return web.Response(status=404)
        if self.view_truncations > 0:
            self.view_truncations -= 1
            return self._truncated(request, data)
        kind = mimetypes.guess_type(key[2])[0] or "application/octet-stream"  # as ComfyUI
        return web.Response(body=data, content_type=kind)

    async def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        self.faulted.append((request.path, fault))
        self.changed()
        return await answer_fault(request, fault, self._closing)

    def _truncated(self, request: web.Request, data: bytes) -> web.Response:
        """Send half of `data` straight to the socket and hang up: a transfer cut short."""
        head = "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n"
        if self.truncated_views_announce_length:
            head += f"Content-Length: {len(data)}\r\n"
        assert request.transport is not None
        request.transport.write(head.encode() + b"\r\n" + data[: len(data) // 2])
        request.transport.close()
        return web.Response()  # never sent: the connection is closed

    async def _upload(self, request: web.Request) -> web.Response:
        form = await read_form(request)  # not request.post(): see fakes/forms.py
        image = form.files.get("image")
        if image is None or not image.filename:
            return web.Response(status=400)
        subfolder = form.fields.get("subfolder", "")
        data = image.data
        name = image.filename
        stored = str(PurePosixPath(subfolder, name)) if subfolder else name
        if form.fields.get("overwrite") not in ("true", "1"):
            stem, dot, suffix = name.rpartition(".")
            counter = 1
            while stored in self.uploads and self.uploads[stored] != data:
                name = f"{stem} ({counter}).{suffix}" if dot else f"{name} ({counter})"
                stored = str(PurePosixPath(subfolder, name)) if subfolder else name
                counter += 1
        self.uploads[stored] = data
        self.changed()
        return web.json_response(
            {"name": name, "subfolder": subfolder, "type": form.fields.get("type", "input")}
        )
