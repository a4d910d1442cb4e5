from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.media.details import details_text
from bot.media.summary import (
    full_summary,
    summarize,
)
from bot.params import DEFAULT_NEGATIVE
from bot.replies import pieces
from bot.request import InputFiles, JobRequest, Mode
from tests.factories import make_params, make_request

TELEGRAM_CAPTION_LIMIT = 1024
DISCORD_MESSAGE_LIMIT = 2000
LONG_PROMPT = ("A red fox dances on a snowy hill under the northern lights, " * 60)[:3000]
LONG_NEGATIVE = ("blurry, low quality, extra fingers, " * 40)[:1400]


def _request(mode: Mode, prompt: str = LONG_PROMPT, negative: str = LONG_NEGATIVE) -> JobRequest:
    params = make_params(
        cfg=6.5, seed=1234567890123, pose_strength=0.8, face_strength=1.2, color_match="mkl"
    )
    return make_request(
        mode,
        prompt=prompt,
        negative_prompt=negative,
        params=params,
        inputs=InputFiles(image=Path("in/photo.png"), pose=[Path("in/pose.zip")]),
        notes=["frames rounded to 81"],
    )


@pytest.mark.parametrize("limit", [TELEGRAM_CAPTION_LIMIT, DISCORD_MESSAGE_LIMIT])
@pytest.mark.parametrize("mode", list(Mode))
def test_long_prompt_fits_limit_with_all_values(limit: int, mode: Mode) -> None:
    text = summarize(_request(mode), limit=limit, host="gpu-1", gpu_seconds=312.4, duration=5.06)
    assert len(text) <= limit
    assert len(text) >= limit - 5  # the prompt uses the room there is
    for value in (
        "832x480",
        "81 frames",
        "16 fps",
        "5.1 s",
        "1234567890123",
        "steps 30",
        "CFG 6.5",
        "shift 5",
        "unipc",
        "GPU 5 min 12 s",
        "host gpu-1",
        "Prompt: A red fox",
        "Negative: blurry",
        "frames rounded to 81",
    ):
        assert value in text
    assert "…" in text
    prompt_part = text.split("Prompt: ")[1].split("\nNegative: ")[0]
    negative_part = text.split("\nNegative: ")[1]
    assert len(negative_part) < len(prompt_part)  # the negative is cut harder
    if mode == Mode.ANIMATE:
        for value in ("Window 77", "motion frame 4", "pose 0.8", "face 1.2", "color match mkl"):
            assert value in text
    if mode == Mode.INFINITETALK:
        assert "Window 77 · motion frame 4" in text
        assert "pose 0.8" not in text
    if mode == Mode.I2V:
        assert "Window" not in text


def test_short_prompt_is_kept_whole() -> None:
    request = _request(Mode.I2V, prompt="a cat", negative="blurry")
    text = summarize(request, limit=TELEGRAM_CAPTION_LIMIT)
    assert "Prompt: a cat" in text
    assert text.endswith("Negative: blurry")
    assert "…" not in text
    assert "GPU" not in text
    assert "5.1 s" in text  # frames / fps without a measured duration


def test_tiny_limit_is_still_respected() -> None:
    assert len(summarize(_request(Mode.ANIMATE), limit=50)) <= 50


def test_full_summary_keeps_everything() -> None:
    data = full_summary(_request(Mode.ANIMATE), host="gpu-1", gpu_seconds=312.4, duration=5.06)
    assert data["prompt"] == LONG_PROMPT
    assert data["negative_prompt"] == LONG_NEGATIVE
    assert data["params"]["seed"] == 1234567890123
    assert data["params"]["color_match"] == "mkl"
    assert data["mode"] == "animate"
    assert data["host"] == "gpu-1"
    assert data["inputs"]["pose"] == ["in/pose.zip"]
    json.dumps(data)


def test_the_default_negative_reads_default_and_an_own_one_is_shown() -> None:
    plain = summarize(_request(Mode.I2V, "a cat", DEFAULT_NEGATIVE), limit=TELEGRAM_CAPTION_LIMIT)
    assert plain.endswith("\nNegative: default")
    operator = "blurry, static"  # `[defaults.i2v] negative_prompt`: not the user's either
    text = summarize(_request(Mode.I2V, "a cat", operator), limit=1024, default_negative=operator)
    assert text.endswith("\nNegative: default")
    assert summarize(_request(Mode.I2V, "a cat", "rain"), limit=1024).endswith("\nNegative: rain")


def test_details_name_each_value_by_its_flag_with_units() -> None:
    text = details_text("abc", _request(Mode.ANIMATE), host="gpu-1", gpu_seconds=312.4)
    lines = text.split("\n")
    assert lines[0] == "Job abc · Animate"
    for line in (
        "--cfg 6.5",
        "--frames 81 frames (5.1 s)",
        "--size 832x480 pixels",
        "--fps 16 fps",
        "--window 77 frames",
        "--pose-strength 0.8",
        "--color-match mkl",
        "--seed 1234567890123",
        "Host: gpu-1",
        "GPU time: 5 min 12 s",
        "Notes: frames rounded to 81",
        f"--neg {LONG_NEGATIVE}",
    ):
        assert line in lines
    assert not any(line.startswith(("--quality", "--split", "--batch")) for line in lines)
    fast = make_request(params=make_params(quality="fast", split=3, steps=6))
    assert "--split 3" in details_text("x", fast).split("\n")


def test_long_text_is_split_into_messages_at_line_ends() -> None:
    text = "\n".join(f"line {i} " + "x" * 50 for i in range(100)) + "\n" + "y" * 250
    parts = pieces(text, 200)
    assert all(len(p) <= 200 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert all(p.startswith(("line", "y")) for p in parts)


def test_escaped_user_text_still_fits_the_limit() -> None:
    def escape(text: str) -> str:
        return text.replace("*", "\\*")

    request = _request(Mode.I2V, prompt="**bold** " * 400, negative="*" * 300)
    text = summarize(request, limit=DISCORD_MESSAGE_LIMIT, escape=escape)
    assert len(text) <= DISCORD_MESSAGE_LIMIT
    assert "Prompt: \\*\\*bold\\*\\* " in text
    assert "Negative: \\*\\*" in text


def test_details_escape_user_text_only() -> None:
    request = _request(Mode.I2V, prompt="**bold**", negative="||x||")
    text = details_text("abc", request, escape=lambda t: t.replace("*", "\\*").replace("|", "\\|"))
    assert "\nPrompt: \\*\\*bold\\*\\*\n" in text
    assert text.endswith("\n--neg \\|\\|x\\|\\|")
    assert "\n--steps 30\n" in text  # the flags themselves are left as they are
