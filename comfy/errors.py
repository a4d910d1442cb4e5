"""Errors raised by the ComfyUI client.

Transport errors (aiohttp, sockets, timeouts) are translated into this hierarchy in exactly one
place, `comfy.transport`; everything above it only sees `ComfyError` subclasses.
"""

from __future__ import annotations

from typing import Any


class ComfyError(Exception):
    """Base of every error raised by `comfy`."""


class HostUnavailable(ComfyError):
    """The host cannot be reached: refused, timed out, DNS, a gateway error (502/503/504 from a
    proxy with no ComfyUI behind it), or the websocket stayed gone."""


class NotComfyUI(HostUnavailable):
    """The URL answered, but not like ComfyUI: an HTML page or JSON of another shape (a wrong
    URL, a proxy's login page). As good as unreachable: there is no ComfyUI to talk to."""


class HostError(ComfyError):
    """ComfyUI answered a request with a server error (500 and the like, not a gateway error).

    The host is up; it failed this one request, and its own log says why.
    """


class AuthError(ComfyError):
    """The host answered 401/403: the API token is missing or wrong."""


class PromptRejected(ComfyError):
    """ComfyUI refused the prompt at validation time (HTTP 400 from `POST /prompt`).

    `error` is ComfyUI's top-level `error` object, `node_errors` maps node id to
    `{"errors": [...], "dependent_outputs": [...], "class_type": ...}`.
    """

    def __init__(self, error: dict[str, Any], node_errors: dict[str, Any]) -> None:
        self.error = error
        self.node_errors = node_errors
        super().__init__(describe_rejection(error, node_errors))


class ExecutionFailed(ComfyError):
    """A node raised while the prompt ran (`execution_error`)."""

    def __init__(
        self,
        prompt_id: str,
        node_id: str | None,
        node_type: str | None,
        exception_message: str,
        exception_type: str = "",
    ) -> None:
        self.prompt_id = prompt_id
        self.node_id = node_id
        self.node_type = node_type
        self.exception_message = exception_message
        self.exception_type = exception_type
        where = f"node {node_id} ({node_type})" if node_id else "an unknown node"
        super().__init__(f"ComfyUI failed in {where}: {exception_message.strip()}")


class ExecutionInterrupted(ComfyError):
    """The prompt was interrupted, or removed from the queue before it ran."""


class PromptLost(ComfyError):
    """The host no longer knows a prompt: not queued, running or in its history.

    ComfyUI keeps its queue and history in memory, so this is what a restart of ComfyUI
    looks like. Nothing went wrong with the prompt itself; it can be submitted again.
    """


class DownloadIncomplete(HostUnavailable):
    """An output file's transfer ended early: short of its Content-Length, or cut off.

    A transfer problem, not a problem with the work: fetching the file again may succeed.
    """

    def __init__(
        self, base_url: str, filename: str, received: int, expected: int | None = None
    ) -> None:
        of = "" if expected is None else f" of {expected}"
        super().__init__(f"{base_url}: the download of {filename} ended after {received}{of} bytes")


class ResultUnreadable(ComfyError):
    """The prompt finished on the host, but its `/history` entry could not be read.

    The GPU work is done: only the fetch failed, so the caller fetches again (it never
    sends the prompt again). `__cause__` is the error the fetch met.
    """

    def __init__(self, base_url: str, prompt_id: str, cause: ComfyError) -> None:
        self.prompt_id = prompt_id
        super().__init__(f"{base_url}: prompt {prompt_id} finished, but reading it failed: {cause}")


class OutputMissing(ComfyError):
    """The prompt finished but no video output can be found in its history entry."""


def describe_rejection(error: dict[str, Any], node_errors: dict[str, Any]) -> str:
    """One line per problem: node id, class_type, input name and ComfyUI's reason."""
    lines = [str(error.get("message") or "Prompt rejected")]
    for node_id, node in node_errors.items():
        class_type = node.get("class_type", "?")
        for problem in node.get("errors", []):
            extra = problem.get("extra_info") or {}
            input_name = extra.get("input_name")
            where = f"node {node_id} ({class_type})"
            if input_name:
                where += f" input '{input_name}'"
            reason = str(problem.get("message", "invalid"))
            details = problem.get("details")
            if details:
                reason += f": {details}"
            lines.append(f"{where}: {reason}")
    if not node_errors and error.get("details"):
        lines.append(str(error["details"]))
    return "\n".join(lines)
