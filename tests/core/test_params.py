from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.errors import ParameterError
from bot.flags import parse_command
from bot.intake import prepare_job, prepare_request
from bot.params import DEFAULT_NEGATIVE, JOB_COUNT, PARAMS, find_param
from bot.request import Ask, InputFiles, Mode
from bot.resolve import resolve_again, resolve_params
from tests.factories import make_params, make_request

SCHEDULERS = ["unipc", "dpm++", "dpm++_sde", "euler"]


@pytest.fixture
def config() -> Config:
    return parse_config({"comfy": {"hosts": [{"name": "a", "url": "http://127.0.0.1:1"}]}}, env={})


def test_free_text_is_prompt_and_flags_are_typed() -> None:
    parsed = parse_command(
        "a cat walking --steps 20 --cfg 6.5 --frames 81 --seed 42 --size 832x480 "
        '--scheduler unipc --shift 5 --neg "blurry, static"'
    )
    assert parsed.prompt == "a cat walking"
    assert parsed.overrides == {
        "steps": 20,
        "cfg": 6.5,
        "frames": 81,
        "seed": 42,
        "size": (832, 480),
        "scheduler": "unipc",
        "shift": 5.0,
        "negative_prompt": "blurry, static",
    }


def test_apostrophes_equals_and_phone_dashes() -> None:
    parsed = parse_command("the cat's garden —steps 12 --cfg=4 –seed 7")
    assert parsed.prompt == "the cat's garden"
    assert parsed.overrides == {"steps": 12, "cfg": 4.0, "seed": 7}


def test_negative_numbers_in_prompt_are_not_flags() -> None:
    assert parse_command("temperature -5 --1 degrees").prompt == "temperature -5 --1 degrees"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x --bogus 3", "Unknown option --bogus. Valid options: --steps"),
        ("x --steps", "--steps needs a value"),
        ("x --steps many", "'many' is not valid"),
        ("x --size big", "WIDTHxHEIGHT"),
    ],
)
def test_bad_flags_explain_what_is_valid(text: str, fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment.replace("+", r"\+").replace(".", r"\.")):
        parse_command(text, Mode.I2V)


def test_mode_specific_flag_in_wrong_mode() -> None:
    with pytest.raises(ParameterError, match="only applies to animate"):
        parse_command("x --pose-strength 2", Mode.I2V)


def test_defaults_per_mode(config: Config) -> None:
    i2v = resolve_params(Mode.I2V, {}, config, SCHEDULERS)
    p = i2v.params
    assert (p.width, p.height, p.frames, p.steps, p.cfg, p.shift, p.scheduler, p.fps) == (
        832,
        480,
        81,
        30,
        6.0,
        5.0,
        "unipc",
        16.0,
    )
    assert i2v.negative_prompt == DEFAULT_NEGATIVE
    assert 0 <= p.seed < 2**48
    animate = resolve_params(Mode.ANIMATE, {}, config, SCHEDULERS).params
    assert animate.cfg == 7.0
    assert animate.frame_window == 77
    talk = resolve_params(Mode.INFINITETALK, {}, config, SCHEDULERS).params
    assert (talk.frame_window, talk.motion_frame) == (77, 4)


def test_config_defaults_then_overrides(config: Config) -> None:
    config.defaults.i2v.steps = 12
    config.defaults.i2v.negative_prompt = "ugly"
    r = resolve_params(Mode.I2V, {"cfg": 3.0}, config, SCHEDULERS)
    assert (r.params.steps, r.params.cfg, r.negative_prompt) == (12, 3.0, "ugly")


def test_rounding_is_reported(config: Config) -> None:
    r = resolve_params(Mode.I2V, {"frames": 80, "size": (830, 475)}, config, SCHEDULERS)
    assert (r.params.frames, r.params.width, r.params.height) == (81, 832, 480)
    assert r.params.size_from_user
    assert any("80 rounded to 81" in n for n in r.notes)
    assert any("830x475 rounded to 832x480" in n for n in r.notes)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"frames": 100000}, "frames 100000 is out of range: use a value from 1 to 161"),
        ({"steps": -1}, "steps -1 is out of range"),
        ({"cfg": 99.0}, "cfg 99 is out of range"),
        ({"scheduler": "res_2m"}, "scheduler 'res_2m' is not available. Choose one of: unipc"),
        ({"size": (4000, 4000)}, "width 4000 is out of range"),
        ({"size": (1280, 1280)}, "too large"),
        ({"seed": -3}, "seed -3 is out of range"),
        ({"denoise": 0.0}, "denoise 0 is out of range"),
    ],
)
def test_absurd_values_rejected(config: Config, overrides: dict, fragment: str) -> None:
    with pytest.raises(ParameterError) as err:
        resolve_params(Mode.I2V, overrides, config, SCHEDULERS)
    assert fragment in str(err.value)


def test_animate_specific_checks(config: Config) -> None:
    with pytest.raises(ParameterError, match="color match 'sepia'"):
        resolve_params(Mode.ANIMATE, {"color_match": "sepia"}, config, SCHEDULERS)
    with pytest.raises(ParameterError, match="window 76 must be 4n"):
        resolve_params(Mode.ANIMATE, {"frame_window": 76}, config, SCHEDULERS)
    ok = resolve_params(Mode.ANIMATE, {"color_match": "hm-mkl-hm"}, config, SCHEDULERS)
    assert ok.params.color_match == "hm-mkl-hm"


def test_unknown_flag_at_the_end_is_unknown_not_missing_value() -> None:
    with pytest.raises(ParameterError, match="Unknown option --bogus"):
        parse_command("x --bogus", Mode.I2V)


def test_integers_in_range_errors_are_printed_as_integers(config: Config) -> None:
    with pytest.raises(ParameterError) as err:
        resolve_params(Mode.I2V, {"seed": 2**64}, config, SCHEDULERS)
    assert str(err.value) == (f"seed {2**64} is out of range: use a value from 0 to {2**64 - 1}.")
    with pytest.raises(ParameterError, match=r"cfg 1e\+300 is out of range: .* from 0 to 30\."):
        resolve_params(Mode.I2V, {"cfg": 1e300}, config, SCHEDULERS)
    with pytest.raises(ParameterError, match=r"denoise 2 is out of range: .* from 0\.01 to 1\."):
        resolve_params(Mode.I2V, {"denoise": 2.0}, config, SCHEDULERS)


def test_negative_prompt_must_be_utf8(config: Config) -> None:
    with pytest.raises(ParameterError, match="negative prompt must be valid UTF-8 text"):
        resolve_params(Mode.I2V, {"negative_prompt": "blurry \udcff"}, config, SCHEDULERS)


async def test_prompt_that_is_not_utf8_is_refused_before_any_file_is_read(
    config: Config, tmp_path: Path
) -> None:
    # The image does not exist: the prompt is refused before anything touches the files.
    inputs = InputFiles(image=tmp_path / "absent.png")
    prompt = parse_command("a cat \udcff --steps 4", Mode.I2V)
    ask = Ask(Mode.I2V, prompt.prompt, inputs, prompt.overrides)
    with pytest.raises(ParameterError, match="prompt must be valid UTF-8 text"):
        await prepare_job(ask, config, SCHEDULERS, tmp_path)
    archived = make_request(tmp=tmp_path, prompt="a cat \udcff")
    with pytest.raises(ParameterError, match="prompt must be valid UTF-8 text"):
        await prepare_request(archived, config, tmp_path / "work")
    assert not (tmp_path / "work").exists()


def test_resolve_again_applies_overrides_over_an_earlier_request(config: Config) -> None:
    earlier = make_request(params=make_params(seed=5, steps=12, cfg=4.5))
    again = resolve_again(earlier, {"seed": 7, "size": (830, 475)}, config, SCHEDULERS)
    p = again.params
    assert (p.seed, p.steps, p.cfg, p.width, p.height) == (7, 12, 4.5, 832, 480)
    assert p.size_from_user
    assert again.negative_prompt == earlier.negative_prompt
    assert any("830x475 rounded to 832x480" in n for n in again.notes)
    with pytest.raises(ParameterError, match="steps 0 is out of range"):
        resolve_again(earlier, {"steps": 0}, config, SCHEDULERS)


def test_config_defaults_cover_exactly_the_configurable_parameters() -> None:
    from bot.config import ModeDefaults

    settable = {"negative_prompt"}
    for param in PARAMS:
        if param.configurable:
            settable |= {"width", "height"} if param.key == "size" else {param.key}
    assert set(ModeDefaults.model_fields) == settable


def test_bounds_follow_the_config_limits(config: Config) -> None:
    config.limits.max_steps = 12
    steps, motion = find_param("steps"), find_param("motion-frame")
    assert steps is not None and motion is not None
    assert steps.bounds(config.limits) == (1, 12)
    assert motion.bounds(config.limits) == (1, 76)  # below the default window of 77
    assert motion.bounds(config.limits, {"frame_window": 81}) == (1, 80)
    with pytest.raises(ParameterError, match="steps 13 is out of range: use a value from 1 to 12"):
        resolve_params(Mode.I2V, {"steps": 13}, config, SCHEDULERS)


def test_every_flag_and_alias_finds_its_parameter() -> None:
    for param in PARAMS:
        for name in (param.name, *param.aliases):
            assert find_param(name) is param
            assert find_param(name.upper()) is param
    assert len(set(PARAMS)) == len(PARAMS)  # entries can key a front end's own tables


def test_defaults_come_from_the_table(config: Config) -> None:
    for mode in Mode:
        params = resolve_params(mode, {}, config, SCHEDULERS).params
        for param in PARAMS:
            skipped = ("size", "seed", "negative_prompt", *JOB_COUNT)
            if mode in param.modes and param.key not in skipped:
                assert getattr(params, param.key) == param.default_for(mode)
    assert resolve_params(Mode.INFINITETALK, {}, config, SCHEDULERS).params.fps == 25.0


@pytest.mark.parametrize(
    ("text", "mode", "fragment"),
    [
        ("x --steps 2 --steps 3", Mode.I2V, "--steps is given twice (2 and 3): give it once."),
        ("x —steps 2 --steps=2", Mode.I2V, "--steps is given twice (2 and 2)"),
        ("x --colormatch mkl --color-match hm", Mode.ANIMATE, "--color-match is given twice"),
    ],
)
def test_a_flag_given_twice_is_refused(text: str, mode: Mode, fragment: str) -> None:
    with pytest.raises(ParameterError) as caught:
        parse_command(text, mode)
    assert fragment in str(caught.value)


def test_split_with_standard_quality_is_refused(config: Config) -> None:
    with pytest.raises(ParameterError, match="--split applies to --quality fast only"):
        resolve_params(Mode.I2V, {"split": 3}, config, SCHEDULERS)
    fast = resolve_params(Mode.I2V, {"split": 3, "quality": "fast"}, config, SCHEDULERS)
    assert fast.params.split == 3
