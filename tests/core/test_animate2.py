"""Wan-Animate-2's request: a photo and a video of someone moving, its parameters and checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.errors import InputError, ParameterError
from bot.flags import parse_command
from bot.intake import prepare_job
from bot.request import Ask, InputFiles, Mode
from bot.resolve import resolve_params
from fakes.media import mp4_bytes, png_bytes, probe
from workflows.native import NATIVE_SCHEDULERS

WRAPPER_SCHEDULERS = ["unipc", "dpm++", "flowmatch_causvid", "vibt_unipc"]


@pytest.fixture
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "a", "url": "http://127.0.0.1:1"}]}}, env={})


def files(tmp_path: Path, *, frames: int = 12) -> tuple[Path, Path]:
    photo = tmp_path / "me.png"
    photo.write_bytes(png_bytes(320, 480))
    video = tmp_path / "dance.mp4"
    video.write_bytes(mp4_bytes(width=160, height=96, frames=frames))
    return photo, video


async def test_the_video_becomes_the_clip_and_sets_the_length(
    config: Config, tmp_path: Path
) -> None:
    photo, video = files(tmp_path, frames=30)
    ask = Ask(Mode.ANIMATE2, "", InputFiles(image=photo, pose=[video]), {"steps": 4})
    job = await prepare_job(ask, config, WRAPPER_SCHEDULERS, tmp_path / "job")
    assert job.request.prompt == "a person moving naturally"
    clip = job.files.pose[0]
    assert clip.name == "pose.mp4"
    seen = probe(clip.read_bytes())
    # 30 frames at 16 fps cut to Wan's 4n+1; the clip is made at the video's size.
    assert job.request.params.frames == 29
    assert (seen.width, seen.height) == (job.request.params.width, job.request.params.height)
    assert any("29 of the 30 motion frames" in note for note in job.request.notes)


async def test_without_a_video_it_says_what_to_send(config: Config, tmp_path: Path) -> None:
    photo, _ = files(tmp_path)
    ask = Ask(Mode.ANIMATE2, "a dancer", InputFiles(image=photo), {})
    with pytest.raises(InputError, match="video"):
        await prepare_job(ask, config, WRAPPER_SCHEDULERS, tmp_path / "job")
    assert not (tmp_path / "job" / "pose.mp4").exists()


async def test_face_frames_and_background_belong_to_animate(config: Config, tmp_path: Path) -> None:
    photo, video = files(tmp_path)
    inputs = InputFiles(image=photo, pose=[video], background=photo)
    with pytest.raises(InputError, match="/animate"):
        await prepare_job(Ask(Mode.ANIMATE2, "", inputs, {}), config, [], tmp_path / "job")


def test_it_offers_core_schedulers_on_any_host(config: Config) -> None:
    resolved = resolve_params(Mode.ANIMATE2, {"scheduler": "euler"}, config, WRAPPER_SCHEDULERS)
    assert resolved.params.scheduler == "euler"  # not on this wrapper host's list, but core's
    with pytest.raises(ParameterError) as refused:
        resolve_params(Mode.ANIMATE2, {"scheduler": "flowmatch_causvid"}, config, [])
    assert "euler" in str(refused.value)
    assert set(NATIVE_SCHEDULERS) >= {"unipc", "euler"}


def test_its_flags_are_the_photo_and_motion_ones() -> None:
    parsed = parse_command("a dancer --pose-strength 0.8 --steps 6 --window 41", Mode.ANIMATE2)
    assert parsed.overrides == {"pose_strength": 0.8, "steps": 6, "frame_window": 41}
    for flag in ("--face-strength 1", "--color-match mkl", "--quality fast", "--motion-frame 2"):
        with pytest.raises(ParameterError, match="only applies to"):
            parse_command(f"a dancer {flag}", Mode.ANIMATE2)
