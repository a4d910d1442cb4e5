"""The fake ComfyUI host's state: its jobs, what it received, and how tests wait on it.

`FakeComfy` (in `comfy_server`) builds on `ComfyState` and adds the HTTP/websocket server.
Every change to the state calls `changed()`, which wakes the `wait_*` helpers, so tests
never sleep to see the host move.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fakes.comfy_faults import Fault


@dataclass
class Job:
    prompt_id: str
    number: int
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs: list[str]
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    interrupted: bool = False
    history_lag: int = 0

    @property
    def client_id(self) -> str | None:
        return self.extra_data.get("client_id")

    def queue_item(self) -> list[Any]:
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]


class ComfyState:
    """What the fake host received and holds, in ComfyUI's terms, plus the waiting helpers."""

    def __init__(self) -> None:
        # What the fake received.
        self.prompts: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        # POST /interrupt's prompt ids, and the running prompts cancelled by the jobs API.
        self.interrupts: list[str | None] = []
        self.deleted: list[str] = []  # prompts removed from the pending queue, either way
        self.requests: list[Request] = []
        # (method, path, start, end) of each answered request, `time.monotonic()` (benchmarks).
        self.timings: list[tuple[str, str, float, float]] = []
        self.ws_connects = 0
        # Host state, in ComfyUI's terms.
        self.pending: list[Job] = []
        self.running: Job | None = None
        self.history: dict[str, dict[str, Any]] = {}
        self.files: dict[tuple[str, str, str], bytes] = {}
        self.accepted: list[str] = []
        # While set to an unset Event, /view waits on it (a slow download).
        self.view_gate: asyncio.Event | None = None
        # /view answers 503 this many times before serving files (a flaky download).
        self.view_failures = 0
        # /view sends only the first half of this many files, then closes the connection;
        # with the full Content-Length announced, or (False) none, as a proxy might.
        self.view_truncations = 0
        self.truncated_views_announce_length = True
        # Faults for the next requests of a finished prompt's `/history/{id}` and of `/view`,
        # one used up per request, in order: a host that fails only the fetch of a result.
        self.history_faults: list[Fault] = []
        self.view_faults: list[Fault] = []
        self.faulted: list[tuple[str, Fault]] = []  # (path, fault) of each fault answered
        # While set to an unset Event, POST /prompt waits on it before taking the prompt (a
        # host slow to answer). It takes it even if the client went away, as ComfyUI does.
        self.prompt_gate: asyncio.Event | None = None
        self.sockets: dict[str, web.WebSocketResponse] = {}
        # What each client announced in its first `feature_flags` message, by client id.
        self.socket_flags: dict[str, dict[str, Any]] = {}
        self.previews_sent = 0
        self.refuse_ws = False
        # While set, /ws never answers the upgrade (until the fake closes).
        self.stall_ws = False
        # Canned answers instead of ComfyUI's, by "METHOD /path" prefix: (status, type, body).
        # For a proxy's login page, a wrong URL's JSON, a 500.
        self.answers: dict[str, tuple[int, str, str]] = {}
        self._jobs: dict[str, Job] = {}
        self._number = 0
        self._tick = asyncio.Event()

    # -- controls and waiting ------------------------------------------------------------

    def release(self, prompt_id: str | None = None) -> None:
        """Let a held job (or every job so far, with None) run to the end."""
        for job in self._jobs.values():
            if prompt_id is None or job.prompt_id == prompt_id:
                job.gate.set()

    async def wait_for_prompt(self, count: int = 1) -> str:
        """Wait until `count` prompts were accepted; returns the id of the `count`-th."""
        await self.wait_until(lambda: len(self.accepted) >= count)
        return self.accepted[count - 1]

    async def wait_running(self, prompt_id: str) -> None:
        await self.wait_until(
            lambda: self.running is not None and self.running.prompt_id == prompt_id
        )

    async def wait_done(self, prompt_id: str) -> dict[str, Any]:
        await self.wait_until(lambda: prompt_id in self.history)
        return self.history[prompt_id]

    async def wait_for_ws(self, count: int = 1) -> None:
        await self.wait_until(lambda: self.ws_connects >= count)

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        while True:
            tick = self._tick
            if predicate():
                return
            await tick.wait()

    def changed(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()

    def queue_remaining(self) -> int:
        return len(self.pending) + (1 if self.running else 0)

    def _exec_info(self) -> dict[str, Any]:
        return {"exec_info": {"queue_remaining": self.queue_remaining()}}
