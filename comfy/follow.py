"""Following one prompt to its end: websocket messages, settled against `/history` and `/queue`.

`/history` is the source of truth: the websocket only says when to look. A prompt that is in
neither the queue nor the history was forgotten by the host (`PromptLost`), unless this
client removed it from the queue itself (`ExecutionInterrupted`). `ComfyClient` owns one
`Follower` and exposes it as `ComfyClient.follow`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Container
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from comfy.errors import (
    ExecutionFailed,
    ExecutionInterrupted,
    HostError,
    HostUnavailable,
    NotComfyUI,
    OutputMissing,
    PromptLost,
    ResultUnreadable,
)
from comfy.events import ComfyEvent, HistoryEntry, parse_event
from comfy.listener import EventListener, Failed, Message, Reconcile

EventCallback = Callable[[ComfyEvent], Awaitable[None] | None]

HISTORY_WAIT = 5.0
# ComfyUI moves a prompt from the queue to history under one lock, so a prompt in neither
# was deleted; this only covers proxies or caches in front of /history.
LOST_WAIT = 1.0


class PromptState(StrEnum):
    """Where a host has a prompt."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"  # in its history: finished, failed or interrupted


@dataclass
class Follower:
    """Follows prompts on one host through its client's websocket listener and HTTP calls."""

    base_url: str
    listener: EventListener
    history: Callable[[str], Awaitable[HistoryEntry | None]]
    queue_state: Callable[[str], Awaitable[PromptState | None]]
    removed: Container[str]  # prompts this client deleted from the queue
    reconnect_window: float

    async def follow(self, prompt_id: str, on_event: EventCallback | None) -> HistoryEntry:
        """Wait for `prompt_id` to finish and return its `/history` entry (see `ComfyClient`)."""
        queue = self.listener.subscribe(prompt_id)
        try:
            await self.listener.ensure_connected()
            entry = await self._reconcile_patiently(prompt_id)
            while entry is None:
                delivery = await queue.get()
                if isinstance(delivery, Failed):
                    raise delivery.error
                if isinstance(delivery, Reconcile):
                    entry = await self._reconcile_patiently(prompt_id)
                else:
                    entry = await self._on_message(prompt_id, delivery, on_event)
            return entry
        finally:
            self.listener.unsubscribe(prompt_id, queue)

    async def wait_history(
        self, prompt_id: str, bound: float = HISTORY_WAIT
    ) -> HistoryEntry | None:
        """`/history` may lag the websocket: retry briefly until the entry is complete."""
        deadline = time.monotonic() + bound
        delay = 0.02
        entry = await self.history(prompt_id)
        while _incomplete(entry) and time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
            entry = await self.history(prompt_id) or entry
        return entry

    async def _on_message(
        self, prompt_id: str, message: Message, on_event: EventCallback | None
    ) -> HistoryEntry | None:
        kind, data = message.kind, message.data
        if kind == "execution_success":
            try:
                return await self.finished_entry(prompt_id)
            except (HostUnavailable, HostError) as exc:
                # Finished: from here on only fetches, which the caller repeats.
                raise ResultUnreadable(self.base_url, prompt_id, exc) from exc
        if kind == "execution_error":
            raise _execution_failed(prompt_id, data)
        if kind == "execution_interrupted":
            raise ExecutionInterrupted(f"prompt {prompt_id} was interrupted")
        if kind == "executing" and data.get("node") is None:
            # Sent after the history entry is written: settle from history.
            return await self._reconcile(prompt_id)
        event = parse_event(kind, data)
        if event is not None and on_event is not None:
            result = on_event(event)
            if inspect.isawaitable(result):
                await result
        return None

    async def _reconcile_patiently(self, prompt_id: str) -> HistoryEntry | None:
        """`_reconcile`, retried while the host is briefly away (up to `reconnect_window`)."""
        deadline = time.monotonic() + self.reconnect_window
        delay = 0.05
        while True:
            try:
                return await self._reconcile(prompt_id)
            except NotComfyUI:
                raise  # a proxy's page or a wrong URL does not go away by waiting
            except (HostUnavailable, HostError):
                # A brief 500 is no reason to give up on a prompt the host is running.
                if time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _reconcile(self, prompt_id: str) -> HistoryEntry | None:
        """Settle from `/history` (the source of truth); None while queued or running."""
        entry = await self.history(prompt_id)
        if entry is None:
            if await self.queue_state(prompt_id) is not None:
                return None
            entry = await self.wait_history(prompt_id, LOST_WAIT)
            if entry is None:
                if prompt_id in self.removed:
                    raise ExecutionInterrupted(f"prompt {prompt_id} was removed from the queue")
                raise PromptLost(
                    f"{self.base_url} no longer knows prompt {prompt_id}: it is not queued, "
                    "running or in its history (did ComfyUI restart?)"
                )
        return await self._settle(prompt_id, entry)

    async def finished_entry(self, prompt_id: str) -> HistoryEntry:
        """The entry of a prompt the host said has finished, settled like `follow` does.

        Raises `ComfyError`s as they come: a caller that fetches again decides how often.
        """
        entry = await self.wait_history(prompt_id)
        if entry is None:
            raise OutputMissing(f"prompt {prompt_id} finished but /history has no entry")
        return await self._settle(prompt_id, entry)

    async def _settle(self, prompt_id: str, entry: HistoryEntry) -> HistoryEntry:
        status = entry.get("status") or {}
        messages = {str(m[0]): m[1] for m in status.get("messages") or [] if len(m) == 2}
        if "execution_error" in messages:
            raise _execution_failed(prompt_id, messages["execution_error"])
        if "execution_interrupted" in messages:
            raise ExecutionInterrupted(f"prompt {prompt_id} was interrupted")
        if status.get("status_str") == "error":
            raise ExecutionFailed(prompt_id, None, None, "ComfyUI reported an error")
        if not entry.get("outputs"):
            entry = await self.wait_history(prompt_id) or entry
        return entry


def _incomplete(entry: HistoryEntry | None) -> bool:
    """No entry yet, or a successful one whose outputs are not there yet."""
    if not entry:
        return True
    status = entry.get("status") or {}
    return status.get("status_str", "success") == "success" and not entry.get("outputs")


def _execution_failed(prompt_id: str, data: dict[str, Any]) -> ExecutionFailed:
    node_id = data.get("node_id")
    return ExecutionFailed(
        prompt_id,
        None if node_id is None else str(node_id),
        data.get("node_type"),
        str(data.get("exception_message") or "unknown error"),
        str(data.get("exception_type") or ""),
    )
