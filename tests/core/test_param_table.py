"""What a front end with typed options (Discord's slash commands) reads from `PARAMS`."""

from __future__ import annotations

import pytest

from bot.config import Config, parse_config
from bot.errors import ParameterError
from bot.params import PARAMS, scheduler_choices
from bot.request import COLOR_MATCH_CHOICES, Mode
from bot.resolve import resolve_params
from workflows.native import NATIVE_SCHEDULERS
from workflows.schema import bundled_object_info

SCHEDULERS = ["unipc", "dpm++", "dpm++_sde", "euler"]


@pytest.fixture
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "a", "url": "http://127.0.0.1:1"}]}}, env={})


def test_a_typed_front_end_finds_each_option_in_the_table(config: Config) -> None:
    """What Discord's slash-command options need: type, bounds, choices (see `bot.params`)."""
    config.limits.min_side, config.limits.max_side = 256, 1024
    by_name = {p.name: p for p in PARAMS}
    size, steps, cfg = by_name["size"], by_name["steps"], by_name["cfg"]
    scheduler, color = by_name["scheduler"], by_name["color-match"]
    assert (steps.value_type, cfg.value_type, size.value_type) == (int, float, str)
    assert size.bounds(config.limits) == (256, 1024)  # each side
    assert size.kind("640x360") == (640, 360)
    assert cfg.bounds(config.limits) == (0, 30) and cfg.allowed(SCHEDULERS) == ()
    assert scheduler.bounds(config.limits) is None
    assert scheduler.allowed(scheduler_choices(bundled_object_info()))[0] == "unipc"
    assert color.allowed(SCHEDULERS) == COLOR_MATCH_CHOICES
    assert color.modes == {Mode.ANIMATE} and color.default_for(Mode.ANIMATE) == "disabled"
    with pytest.raises(ParameterError, match="height 200 is out of range: use a value from 256"):
        resolve_params(Mode.I2V, {"size": (512, 200)}, config, SCHEDULERS)


def test_a_schema_without_the_sampler_falls_back_to_unipc() -> None:
    schema = bundled_object_info()
    assert "dpm++" in scheduler_choices(schema)
    del schema["WanVideoSampler"]
    assert scheduler_choices(schema) == ["unipc"]
    # A ComfyUI without the wrapper at all: the schedulers its own sampler is given.
    core = {k: v for k, v in schema.items() if not k.startswith("WanVideo")}
    assert scheduler_choices(core) == list(NATIVE_SCHEDULERS) and "unipc" in NATIVE_SCHEDULERS
