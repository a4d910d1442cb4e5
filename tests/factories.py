"""Shared builders for the request objects many tests need; override only what a test checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.request import InputFiles, JobRequest, Mode, Params


def make_params(**overrides: Any) -> Params:
    """Wan's usual I2V values (832x480, 81 frames, 30 unipc steps) with seed 123."""
    fields: dict[str, Any] = dict(
        width=832, height=480, frames=81, steps=30, cfg=6.0, shift=5.0, seed=123,
        scheduler="unipc", denoise=1.0, fps=16.0,
    )  # fmt: skip
    return Params(**{**fields, **overrides})


def make_request(mode: Mode = Mode.I2V, tmp: Path = Path("x"), **overrides: Any) -> JobRequest:
    """A request for "a cat" (negative "blurry") from `tmp / "cat.png"` with `make_params()`."""
    fields: dict[str, Any] = dict(
        mode=mode,
        prompt="a cat",
        negative_prompt="blurry",
        params=make_params(),
        inputs=InputFiles(image=tmp / "cat.png"),
    )
    return JobRequest(**{**fields, **overrides})


# A job of 8 sampler steps over 2.4 s whose every preview reaches the front end (the card tests).
PREVIEWS_EVERY_STEP: dict[str, Any] = {
    "comfy": {"steps": 8, "job_seconds": 2.4},
    "queue": {"preview_interval": 0.0},
}
