"""How a long video is planned: shots, clip count, the frames kept, the fast preset."""

from __future__ import annotations

import pytest

from bot.chain import chain_overrides, plan_chain, shots_of
from bot.errors import ParameterError
from bot.request import Mode
from tests.factories import make_params, make_request


def test_shots_split_on_one_bar_only() -> None:
    assert shots_of("a cat wakes up | it stretches |it leaves") == [
        "a cat wakes up",
        "it stretches",
        "it leaves",
    ]
    assert shots_of("a ||spoiler|| cat") == ["a ||spoiler|| cat"]  # Discord's spoiler marks
    assert shots_of("| a cat |") == ["a cat"]


def test_thirty_seconds_at_81_frames_is_seven_clips_cut_to_480_frames() -> None:
    plan = plan_chain(make_request(params=make_params(length=30.0, frames=81, fps=16.0)))
    assert plan is not None
    assert (plan.clips, plan.frames, plan.keep, plan.first) == (7, 81, 480, 0)
    assert plan.prompts == ("a cat",) * 7


def test_shots_share_the_length_in_order() -> None:
    request = make_request(prompt="wake | stretch", params=make_params(length=20.0, frames=81))
    plan = plan_chain(request)
    assert plan is not None and plan.clips == 5
    assert plan.prompts == ("wake", "wake", "wake", "stretch", "stretch")
    alone = plan_chain(make_request(prompt="wake | stretch | leave", params=make_params()))
    assert alone is not None and alone.clips == 3 and alone.keep == 81 + 2 * 76


def test_one_clip_jobs_are_not_chains_and_tiny_clips_are_refused() -> None:
    assert plan_chain(make_request(params=make_params(length=0.0))) is None
    with pytest.raises(ParameterError, match="--frames 81"):
        plan_chain(make_request(params=make_params(length=10.0, frames=9)))


def test_a_chain_takes_the_fast_preset_unless_the_user_typed_standard() -> None:
    wanted = chain_overrides(Mode.I2V, "a | b", {"quality": "standard"}, {})
    assert wanted["quality"] == "fast"  # a /settings default gives way
    with pytest.raises(ParameterError, match="--quality standard"):
        chain_overrides(Mode.I2V, "a cat", {"length": 20.0}, {"quality": "standard"})
    assert chain_overrides(Mode.ANIMATE, "a | b", {}, {}) == {}
