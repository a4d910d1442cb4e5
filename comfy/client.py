"""Async client for one ComfyUI host: upload, submit, follow, download, cancel.

Following a prompt to its end lives in `comfy.follow`; HTTP error translation in
`comfy.transport`; the websocket in `comfy.listener`; which hosts have the jobs API (used by
`lookup` and `cancel`) in `comfy.jobs`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import aiohttp

from comfy.errors import (
    DownloadIncomplete,
    ExecutionInterrupted,
    PromptRejected,
)
from comfy.events import HistoryEntry
from comfy.follow import LOST_WAIT, EventCallback, Follower, PromptState
from comfy.jobs import JOB_STATES, has_jobs_api
from comfy.listener import EventListener
from comfy.outputs import OutputFile
from comfy.transport import (
    auth_error,
    expect_object,
    is_rejection,
    not_comfy,
    open_file,
    raise_for_server_error,
    raise_for_status,
    read_json,
    translated,
)

CHUNK = 1 << 20
HEARTBEAT = 20.0
# Prompts this client removed from a queue, remembered so that their disappearance reads as
# a cancel (`ExecutionInterrupted`) and not as a host that forgot them (`PromptLost`).
REMOVED_MEMORY = 256


class ComfyClient:
    """Talks to one ComfyUI host over one `aiohttp.ClientSession`.

    Use as `async with ComfyClient(url) as client:` or call `close()`. Many prompts can be
    followed at once; they share one websocket (`/ws?clientId=<client_id>`).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        client_id: str | None = None,
        timeout: float = 30.0,
        upload_timeout: float = 300.0,
        reconnect_window: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id or uuid.uuid4().hex
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._upload_timeout = aiohttp.ClientTimeout(total=upload_timeout)
        # A download is bounded in total too: a host that trickles bytes never times out
        # between reads.
        self._stream_timeout = aiohttp.ClientTimeout(
            total=upload_timeout, sock_connect=timeout, sock_read=timeout
        )
        self._session: aiohttp.ClientSession | None = None
        # A websocket that never opened is not "briefly away": give up on it sooner.
        self._listener = EventListener(
            self._connect_ws,
            reconnect_window=reconnect_window,
            connect_window=min(timeout, reconnect_window),
        )
        self._removed: deque[str] = deque(maxlen=REMOVED_MEMORY)
        # Whether the host has the jobs API, from its version; None until `/system_stats` is
        # read. Every read updates it: a host may come back from a restart updated.
        self._jobs_api: bool | None = None
        self._stats_read = asyncio.Lock()
        self._follower = Follower(
            self.base_url,
            self._listener,
            self.history,
            self._queue_state,
            self._removed,
            reconnect_window,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the websocket listener and close the HTTP session."""
        await self._listener.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- plain calls ---------------------------------------------------------------------

    async def system_stats(self) -> dict[str, Any]:
        """`/system_stats`; its version also says whether `lookup` and `cancel` use the jobs API."""
        stats = await self._object("GET", "/system_stats", {"system": dict})
        self._jobs_api = has_jobs_api(stats)
        return stats

    async def object_info(self) -> dict[str, Any]:
        info = await self._object("GET", "/object_info")
        if not all(isinstance(node, dict) for node in info.values()):
            raise not_comfy(self.base_url, "GET /object_info", info)
        return info

    async def queue(self) -> dict[str, Any]:
        """`{"queue_running": [...], "queue_pending": [...]}`; item[1] is the prompt id."""
        queue = await self._object("GET", "/queue", {"queue_running": list, "queue_pending": list})
        items = [*queue["queue_running"], *queue["queue_pending"]]
        if not all(isinstance(item, list) for item in items):
            raise not_comfy(self.base_url, "GET /queue", queue)
        return queue

    async def history(self, prompt_id: str) -> HistoryEntry | None:
        """The prompt's `/history` entry, or None while the host doesn't know it as done."""
        body = await self._object("GET", f"/history/{prompt_id}")
        entry = body.get(prompt_id)
        # ComfyUI answers `{}` or `{prompt_id: entry}`, nothing else.
        if set(body) - {prompt_id} or not isinstance(entry, dict | None):
            raise not_comfy(self.base_url, f"GET /history/{prompt_id}", body)
        return entry

    async def upload(
        self, path: Path, name: str, *, subfolder: str = "", overwrite: bool = True
    ) -> str:
        """Upload any file into the host's input folder; returns the name to use in a prompt.

        The file is streamed, not read into memory. Pick collision-proof names with
        `unique_upload_name`.
        """
        file = await open_file(path, "rb")
        try:
            form = aiohttp.FormData()
            form.add_field("image", file, filename=name)
            form.add_field("type", "input")
            form.add_field("subfolder", subfolder)
            form.add_field("overwrite", "true" if overwrite else "false")
            body = await self._object(
                "POST",
                "/upload/image",
                {"name": str},
                data=form,
                call_timeout=self._upload_timeout,
            )
        finally:
            file.close()  # a file only read: closing it does not wait on the disk
        stored = str(body.get("name") or name)
        folder = str(body.get("subfolder") or "")
        return f"{folder}/{stored}" if folder else stored

    async def submit(
        self,
        prompt: dict[str, Any],
        *,
        prompt_id: str | None = None,
        extra_data: dict[str, Any] | None = None,
    ) -> str:
        """Queue an API-format prompt; returns its prompt id. Raises `PromptRejected` on 400.

        ComfyUI files the prompt under `prompt_id` when given (else it picks a UUID), so a
        caller can record the id before the host has the prompt. ComfyUI does not refuse an
        id it already has, it runs the prompt again: `lookup` an id before sending it twice.
        """
        # Connect the websocket first: ComfyUI only sends a prompt's events to a client
        # that is connected while it runs, and short prompts finish quickly.
        await self._listener.ensure_connected()
        payload: dict[str, Any] = {"prompt": prompt, "client_id": self.client_id}
        if prompt_id is not None:
            payload["prompt_id"] = prompt_id
        if extra_data:
            payload["extra_data"] = extra_data
        async with self._open("POST", "/prompt", json=payload) as response:
            body = await read_json(response)
            if response.status == 400 and is_rejection(body):
                raise PromptRejected(body.get("error") or {}, body.get("node_errors") or {})
            raise_for_status(response, body)
        return str(
            expect_object(body, self.base_url, "POST /prompt", {"prompt_id": str})["prompt_id"]
        )

    async def download(self, file: OutputFile, dest: Path) -> Path:
        """Stream an output file to `dest` (via a temporary name, then renamed).

        Raises `DownloadIncomplete` when the body ends short of its `Content-Length`.
        """
        params = {"filename": file.filename, "subfolder": file.subfolder, "type": file.type}
        partial = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        async with self._open(
            "GET", "/view", params=params, call_timeout=self._stream_timeout
        ) as resp:
            raise_for_status(resp, None)
            out = await open_file(partial, "wb")
            # A compressed body's Content-Length is not the length we read.
            compressed = resp.headers.get("Content-Encoding", "identity") != "identity"
            expected, received = None if compressed else resp.content_length, 0
            try:
                with translated(self.base_url):
                    try:
                        async for chunk in resp.content.iter_chunked(CHUNK):
                            received += len(chunk)
                            await asyncio.to_thread(out.write, chunk)
                    except aiohttp.ClientPayloadError as exc:
                        raise DownloadIncomplete(
                            self.base_url, file.filename, received, expected
                        ) from exc
                if expected is not None and received != expected:
                    raise DownloadIncomplete(self.base_url, file.filename, received, expected)
            except BaseException:
                await asyncio.to_thread(out.close)
                await asyncio.to_thread(partial.unlink, missing_ok=True)
                raise
            await asyncio.to_thread(out.close)
        await asyncio.to_thread(os.replace, partial, dest)
        return dest

    async def interrupt(self, prompt_id: str) -> None:
        """Interrupt `prompt_id` if it is the one running (never another prompt)."""
        await self._json("POST", "/interrupt", json={"prompt_id": prompt_id})

    async def delete_pending(self, prompt_id: str) -> None:
        """Remove `prompt_id` from the pending queue; its followers then end."""
        self._removed.append(prompt_id)
        await self._json("POST", "/queue", json={"delete": [prompt_id]})
        # Queue first, then history: a prompt that started meanwhile shows up in one of them.
        if await self._queue_state(prompt_id) is None and await self.history(prompt_id) is None:
            self._end_removed(prompt_id)

    async def cancel(self, prompt_id: str) -> bool:
        """Delete `prompt_id` if pending, interrupt it if running; False if it was neither.

        On ComfyUI 0.26 and later this is one `POST /api/jobs/{id}/cancel`, which the host
        carries out under its queue's lock: a prompt that started meanwhile is interrupted,
        and no other prompt ever is. Older hosts get `/queue`, then a delete or `/interrupt`.
        """
        if await self._has_jobs_api():
            return await self._cancel_job(prompt_id)
        state = await self._queue_state(prompt_id)
        if state is PromptState.PENDING:
            await self.delete_pending(prompt_id)
        elif state is PromptState.RUNNING:
            await self.interrupt(prompt_id)
        return state is not None

    async def lookup(self, prompt_id: str) -> PromptState | None:
        """Where the host has `prompt_id`; None if it never got it or forgot it (restarted).

        On ComfyUI 0.26 and later one `GET /api/jobs/{id}` reads queue and history together.
        """
        if await self._has_jobs_api():
            return await self._job_state(prompt_id)
        state = await self._queue_state(prompt_id)
        if state is not None:
            return state
        # Queue first, then history: ComfyUI moves a prompt from one to the other under one
        # lock, so one that finished between the two calls is found in history.
        entry = await self._follower.wait_history(prompt_id, LOST_WAIT)
        return None if entry is None else PromptState.DONE

    # -- following a prompt (`comfy.follow`) --------------------------------------------

    async def follow(self, prompt_id: str, on_event: EventCallback | None = None) -> HistoryEntry:
        """Wait for `prompt_id` to finish and return its `/history` entry.

        Progress is delivered to `on_event`. Raises `ResultUnreadable` when the prompt
        finished but its entry could not be read (read it again with `finished_entry`),
        `ExecutionFailed`, `ExecutionInterrupted` (also when this client deleted the prompt
        from the queue), `PromptLost` when the host forgot the prompt (ComfyUI restarted), or
        `HostUnavailable` when the host stays unreachable for longer than `reconnect_window`.
        """
        return await self._follower.follow(prompt_id, on_event)

    async def finished_entry(self, prompt_id: str) -> HistoryEntry:
        """The `/history` entry of a prompt that has finished, as `follow` returns it.

        For fetching again after `follow` raised `ResultUnreadable`; raises what the fetch
        meets (`HostUnavailable`, `HostError`) and what `follow` raises for a failed prompt.
        """
        return await self._follower.finished_entry(prompt_id)

    async def _queue_state(self, prompt_id: str) -> PromptState | None:
        queue = await self.queue()
        for state, key in (
            (PromptState.RUNNING, "queue_running"),
            (PromptState.PENDING, "queue_pending"),
        ):
            if any(len(item) > 1 and item[1] == prompt_id for item in queue.get(key, [])):
                return state
        return None

    # -- the jobs API (`comfy.jobs`), on hosts that have it ---------------------------------

    async def _has_jobs_api(self) -> bool:
        if self._jobs_api is None:
            async with self._stats_read:  # one read for the calls that wait on it together
                if self._jobs_api is None:
                    await self.system_stats()
        return bool(self._jobs_api)

    async def _job_state(self, prompt_id: str) -> PromptState | None:
        """The prompt's state from `GET /api/jobs/{id}`; None on its 404 (an unknown id)."""
        path = f"/api/jobs/{quote(prompt_id, safe='')}"
        async with self._open("GET", path) as response:
            body = await read_json(response)
            # ComfyUI's 404 is JSON (`{"error": "Job not found"}`); a missing route's is text.
            if response.status == 404 and isinstance(body, dict):
                return None
            raise_for_status(response, body)
        job = expect_object(body, self.base_url, f"GET {path}", {"status": str})
        state = JOB_STATES.get(job["status"])
        if state is None:
            raise not_comfy(self.base_url, f"GET {path}", body)
        return state

    async def _cancel_job(self, prompt_id: str) -> bool:
        # Remembered first: a follower may find the prompt gone before the answer is read.
        self._removed.append(prompt_id)
        path = f"/api/jobs/{quote(prompt_id, safe='')}/cancel"
        cancelled = (await self._object("POST", path, {"cancelled": bool}))["cancelled"]
        # An interrupted prompt ends in the history and its followers hear of it; a dequeued
        # one is simply gone.
        if cancelled and await self._job_state(prompt_id) is None:
            self._end_removed(prompt_id)
        return bool(cancelled)

    def _end_removed(self, prompt_id: str) -> None:
        """End the followers of a prompt removed from the queue: the host says nothing more."""
        removed = ExecutionInterrupted(f"prompt {prompt_id} was removed from the queue")
        self._listener.fail(prompt_id, removed)

    # -- transport (errors are translated by `comfy.transport.translated`) -------------------

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers)
        return self._session

    @contextlib.asynccontextmanager
    async def _open(
        self,
        method: str,
        path: str,
        *,
        call_timeout: aiohttp.ClientTimeout | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        with translated(self.base_url, f"{method} {path}"):
            async with self._http().request(
                method, self.base_url + path, timeout=call_timeout or self._timeout, **kwargs
            ) as response:
                if response.status in (401, 403):
                    raise auth_error(self.base_url, response.status)
                await raise_for_server_error(self.base_url, response)
                yield response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body (None when empty); text that is not JSON means this is not ComfyUI."""
        async with self._open(method, path, **kwargs) as response:
            body = await read_json(response)
            raise_for_status(response, body)
        if isinstance(body, str):
            raise not_comfy(self.base_url, f"{method} {path}", body)
        return body

    async def _object(
        self, method: str, path: str, fields: dict[str, type] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """A JSON object with `fields` of their types, or `NotComfyUI`."""
        body = await self._json(method, path, **kwargs)
        return expect_object(body, self.base_url, f"{method} {path}", fields)

    async def _connect_ws(self) -> aiohttp.ClientWebSocketResponse:
        """Open `/ws`; the whole handshake is bounded by the request timeout."""
        url = self.base_url.replace("http", "ws", 1) + "/ws"
        with translated(self.base_url, "the websocket handshake (GET /ws)"):
            async with asyncio.timeout(self._timeout.total):
                return await self._http().ws_connect(
                    url,
                    params={"clientId": self.client_id},
                    heartbeat=HEARTBEAT,
                    timeout=aiohttp.ClientWSTimeout(ws_close=self._timeout.total),
                )
