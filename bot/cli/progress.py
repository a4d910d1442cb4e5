"""A one-line terminal progress bar fed by ComfyUI events (for the CLI)."""

from __future__ import annotations

from typing import TextIO

from comfy import ComfyEvent, Progress


class ProgressBar:
    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self._drawn = False

    def update(self, event: ComfyEvent) -> None:
        if not isinstance(event, Progress) or event.max <= 0:
            return
        done = min(1.0, event.value / event.max)
        filled = int(done * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done:4.0%} step {event.value}/{event.max}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line (once), so that the next text starts on a line of its own."""
        if self._drawn:
            self._drawn = False
            self.stream.write("\n")
            self.stream.flush()
