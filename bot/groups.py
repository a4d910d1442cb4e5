"""One card for the jobs of a batch: each job's latest status, in order.

The engine gives each job of a batch its `Batch` (group id, index, size; `bot.engine.admission`);
a front end passes every status text through `GroupCards.show` and edits the one card with the
whole text. A group is forgotten once each of its jobs has ended (delivered, failed or
cancelled). After a restart a job not heard from since shows as waiting.
"""

from __future__ import annotations

from bot.engine.jobs import Batch

HEAD = "📦 Batch of {size} jobs"
WAITING = "#{number} waiting…"


class GroupCards:
    def __init__(self) -> None:
        self._lines: dict[str, dict[int, str]] = {}
        self._ended: dict[str, set[int]] = {}

    def show(self, batch: Batch | None, text: str, *, ended: bool) -> tuple[str, bool] | None:
        """The group's card after one job's `text`, and whether all its jobs have ended;
        None when the job is not part of a batch."""
        if batch is None:
            return None
        lines = self._lines.setdefault(batch.group, {})
        lines[batch.index] = text
        done = self._ended.setdefault(batch.group, set())
        if ended:
            done.add(batch.index)
        body = "\n\n".join(lines.get(i, WAITING.format(number=i + 1)) for i in range(batch.size))
        finished = len(done) >= batch.size
        if finished:
            self._lines.pop(batch.group, None)
            self._ended.pop(batch.group, None)
        return f"{HEAD.format(size=batch.size)}\n\n{body}", finished
