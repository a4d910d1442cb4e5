"""One websocket per client, fanned out to the prompts being followed.

The listener keeps a single `/ws` connection open, reconnecting with backoff, and hands each
JSON message to the queues subscribed to its `prompt_id`. It never interprets messages beyond
routing; `ComfyClient.follow` does that. Binary preview frames (`comfy.previews`) become
`preview` messages of the prompt they name, or of the prompt executing when they do not.
After every reconnect it tells all subscribers to reconcile with `/history`, since anything
sent while the socket was down is lost. It gives up after `connect_window` seconds when the
socket never opened, and after `reconnect_window` when an open one stays gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from comfy.errors import AuthError, ComfyError, HostUnavailable
from comfy.previews import parse_preview

log = logging.getLogger(__name__)

INITIAL_BACKOFF = 0.05
MAX_BACKOFF = 2.0
# Messages for prompts nobody follows yet are kept briefly: a prompt's first events often
# arrive before `submit` has even returned its id.
BACKLOG_PROMPTS = 64
BACKLOG_MESSAGES = 512
# The first message on a socket: ComfyUI then names the prompt in every preview (event 4).
FEATURE_FLAGS = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
# Messages after which a prompt is executing on the host, and after which it is not.
RUNNING = frozenset({"execution_start", "executing", "progress"})
ENDED = frozenset({"execution_success", "execution_error", "execution_interrupted"})


@dataclass(frozen=True, slots=True)
class Message:
    """A JSON websocket message: `{"type": kind, "data": data}`."""

    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reconcile:
    """Events may have been lost (reconnect, queue change): check `/history`."""


@dataclass(frozen=True, slots=True)
class Failed:
    """The listener gave up; followers raise `error`."""

    error: ComfyError


Delivery = Message | Reconcile | Failed
Connect = Callable[[], Awaitable[aiohttp.ClientWebSocketResponse]]


class EventListener:
    """Routes websocket messages by prompt id to subscriber queues."""

    def __init__(
        self, connect: Connect, *, reconnect_window: float, connect_window: float | None = None
    ) -> None:
        self._connect = connect
        self._reconnect_window = reconnect_window
        self._connect_window = reconnect_window if connect_window is None else connect_window
        self._subscribers: dict[str, set[asyncio.Queue[Delivery]]] = {}
        self._task: asyncio.Task[ComfyError | None] | None = None
        self._connected = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._backlog: OrderedDict[str, list[Message]] = OrderedDict()
        self._executing: str | None = None  # the prompt that previews without an id are of
        # The newest preview of each prompt nobody follows yet (older ones are worth nothing).
        self._early_previews: OrderedDict[str, Message] = OrderedDict()

    def subscribe(self, prompt_id: str) -> asyncio.Queue[Delivery]:
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        for message in self._backlog.pop(prompt_id, []):
            queue.put_nowait(message)
        early = self._early_previews.pop(prompt_id, None)
        if early is not None:
            queue.put_nowait(early)
        self._subscribers.setdefault(prompt_id, set()).add(queue)
        return queue

    def unsubscribe(self, prompt_id: str, queue: asyncio.Queue[Delivery]) -> None:
        queues = self._subscribers.get(prompt_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._subscribers[prompt_id]

    def fail(self, prompt_id: str, error: ComfyError) -> None:
        """End the followers of `prompt_id` with `error`."""
        for queue in self._subscribers.get(prompt_id, ()):
            queue.put_nowait(Failed(error))

    async def ensure_connected(self) -> None:
        """Start the listener if needed and wait until its websocket is up.

        Raises the listener's error (`HostUnavailable`, `AuthError`) if it gives up first.
        """
        if self._task is None or self._task.done():
            self._connected.clear()
            self._task = asyncio.create_task(self._run(), name="comfy-ws-listener")
        if self._connected.is_set():
            return
        waiter = asyncio.create_task(self._connected.wait())
        try:
            await asyncio.wait({waiter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not self._connected.is_set():
            error = self._task.result() if self._task.done() else None
            raise error or HostUnavailable("websocket listener stopped")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def _run(self) -> ComfyError | None:
        """Connect, pump, reconnect; returns (and broadcasts) the error it gave up with."""
        ever_connected = False
        down_since = time.monotonic()
        window = self._connect_window
        backoff = INITIAL_BACKOFF
        while True:
            try:
                ws = await self._connect()
            except AuthError as exc:
                return self._give_up(exc)
            except ComfyError as exc:
                left = window - (time.monotonic() - down_since)
                if left <= 0:
                    return self._give_up(
                        HostUnavailable(f"websocket unreachable for {window:g} s: {exc}")
                    )
                await asyncio.sleep(min(backoff, left))
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self._ws = ws
            self._executing = None
            try:
                await ws.send_json(FEATURE_FLAGS)
            except (aiohttp.ClientError, ConnectionError, RuntimeError) as exc:
                log.warning("ComfyUI websocket failed: %s", exc)
            self._connected.set()
            if ever_connected:
                self._broadcast(Reconcile())
            ever_connected = True
            backoff = INITIAL_BACKOFF
            try:
                await self._pump(ws)
            except (aiohttp.ClientError, OSError) as exc:
                log.warning("ComfyUI websocket failed: %s", exc)
            finally:
                self._connected.clear()
                self._ws = None
                await ws.close()
            down_since, window = time.monotonic(), self._reconnect_window
            log.warning("ComfyUI websocket closed; reconnecting")

    async def _pump(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self._route(msg.data)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                self._route_preview(msg.data)

    def _route_preview(self, frame: bytes) -> None:
        """A preview goes to its prompt's followers; of a prompt nobody follows yet, only the
        newest is kept for its first follower."""
        preview = parse_preview(frame)
        prompt_id = None if preview is None else preview.prompt_id or self._executing
        if preview is None or prompt_id is None:
            return
        message = Message("preview", {"prompt_id": prompt_id, "image": preview.image,
                                      "mime": preview.mime})  # fmt: skip
        queues = self._subscribers.get(prompt_id)
        if not queues:
            self._early_previews[prompt_id] = message
            self._early_previews.move_to_end(prompt_id)
            while len(self._early_previews) > BACKLOG_PROMPTS:
                self._early_previews.popitem(last=False)
        for queue in queues or ():
            queue.put_nowait(message)

    def _route(self, raw: str) -> None:
        try:
            message = json.loads(raw)
            kind = str(message["type"])
            data = message.get("data") or {}
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring malformed websocket message: %.200s", raw)
            return
        if not isinstance(data, dict):
            return
        prompt_id = data.get("prompt_id")
        if prompt_id is None:
            return
        self._follow_execution(kind, str(prompt_id), data)
        message = Message(kind, data)
        queues = self._subscribers.get(str(prompt_id))
        if queues:
            for queue in queues:
                queue.put_nowait(message)
        else:
            self._keep(str(prompt_id), message)

    def _follow_execution(self, kind: str, prompt_id: str, data: dict[str, Any]) -> None:
        """Which prompt runs now (ComfyUI runs one at a time), for previews without an id."""
        if kind in RUNNING and not (kind == "executing" and data.get("node") is None):
            self._executing = prompt_id
        elif prompt_id == self._executing and (kind in ENDED or kind == "executing"):
            self._executing = None

    def _keep(self, prompt_id: str, message: Message) -> None:
        backlog = self._backlog.setdefault(prompt_id, [])
        self._backlog.move_to_end(prompt_id)
        if len(backlog) < BACKLOG_MESSAGES or message.kind != "progress":
            backlog.append(message)
        while len(self._backlog) > BACKLOG_PROMPTS:
            self._backlog.popitem(last=False)

    def _broadcast(self, delivery: Delivery) -> None:
        for queues in self._subscribers.values():
            for queue in queues:
                queue.put_nowait(delivery)

    def _give_up(self, error: ComfyError) -> ComfyError:
        self._broadcast(Failed(error))
        return error
