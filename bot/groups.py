"""One card for the jobs of a batch: each job's latest status, in order.

The engine puts `batch: [group id, index, size]` in the reply target of each job of a batch
(`bot.engine.admission`); a front end passes every status text through `GroupCards.show` and
edits the one card with the whole text. A group is forgotten once each of its jobs has ended
(delivered, failed or cancelled). After a restart a job not heard from since shows as waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HEAD = "📦 Batch of {size} jobs"
WAITING = "#{number} waiting…"


class GroupCards:
    def __init__(self) -> None:
        self._lines: dict[str, dict[int, str]] = {}
        self._ended: dict[str, set[int]] = {}

    def show(self, target: Mapping[str, Any], text: str, *, ended: bool) -> tuple[str, bool] | None:
        """The group's card after one job's `text`, and whether all its jobs have ended;
        None when the job is not part of a batch."""
        batch = target.get("batch")
        if not batch:
            return None
        group, index, size = str(batch[0]), int(batch[1]), int(batch[2])
        lines = self._lines.setdefault(group, {})
        lines[index] = text
        done = self._ended.setdefault(group, set())
        if ended:
            done.add(index)
        body = "\n\n".join(lines.get(i, WAITING.format(number=i + 1)) for i in range(size))
        finished = len(done) >= size
        if finished:
            self._lines.pop(group, None)
            self._ended.pop(group, None)
        return f"{HEAD.format(size=size)}\n\n{body}", finished


def single(target: Mapping[str, Any]) -> dict[str, Any]:
    """`target` without its batch: a re-roll or extension of a batch's job stands alone."""
    return {k: v for k, v in target.items() if k != "batch"}
