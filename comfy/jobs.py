"""ComfyUI's jobs API (`/api/jobs`): which hosts have it, and what its job statuses mean here.

ComfyUI 0.26.0 added `POST /api/jobs/{id}/cancel`, which interrupts or dequeues a prompt in
one step under the queue's lock; `GET /api/jobs/{id}` (older, from 0.6.0) reads the queue and
the history in one call and answers 404 for a prompt it does not know. `ComfyClient` uses both
on hosts that report 0.26 or later in `/system_stats`, and `/queue`, `/history` and
`/interrupt` on older ones.
"""

from __future__ import annotations

import re
from typing import Any

from comfy.follow import PromptState

JOBS_API_SINCE = (0, 26, 0)
# A version as `system.comfyui_version` spells it: "0.33.0", "v0.26.1", "0.3.45".
_VERSION = re.compile(r"\s*v?(\d+(?:\.\d+)*)", re.IGNORECASE)

# ComfyUI's job statuses; the last three are its history's (finished, failed, interrupted).
JOB_STATES = {
    "pending": PromptState.PENDING,
    "in_progress": PromptState.RUNNING,
    "completed": PromptState.DONE,
    "failed": PromptState.DONE,
    "cancelled": PromptState.DONE,
}


def parse_version(text: object) -> tuple[int, ...] | None:
    """`"0.33.0"` -> (0, 33, 0), `"v0.26"` -> (0, 26, 0); None when it is no version.

    Components compare as numbers, so 0.3.45 < 0.26.0 < 0.33.0; a suffix ("-rc1", "+git")
    is ignored.
    """
    match = _VERSION.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    parts = tuple(int(part) for part in match.group(1).split("."))
    return parts + (0,) * (3 - len(parts))


def has_jobs_api(system_stats: dict[str, Any]) -> bool:
    """Whether the host whose `/system_stats` this is has the jobs API (ComfyUI >= 0.26).

    A host that does not say its version (a fork, a proxy's own answer) is taken as older.
    """
    system = system_stats.get("system")
    version = parse_version(system.get("comfyui_version") if isinstance(system, dict) else None)
    return version is not None and version >= JOBS_API_SINCE
