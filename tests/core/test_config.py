from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import check_front_ends, default_config, read_chats
from bot.app import load_config as app_load_config
from bot.config import load_config, parse_config
from bot.errors import ConfigError
from workflows.hardware import HardwarePreset

ROOT = Path(__file__).resolve().parents[2]


def _base(**host: object) -> dict:
    return {"comfy": {"hosts": [{"name": "gpu-1", "url": "http://127.0.0.1:8188", **host}]}}


def test_example_config_is_valid() -> None:
    config = load_config(ROOT / "config.example.toml", env={})
    assert config.comfy.hosts[0].name
    assert config.models.i2v == "Wan2_1-I2V-14B-480P_fp8_e4m3fn.safetensors"
    # All the data is in one folder, taken from the config file's folder.
    assert config.storage.data == ROOT / "data"
    assert config.storage.database == ROOT / "data" / "wanbot.db"
    assert config.storage.outputs == ROOT / "data" / "outputs"
    assert config.storage.jobs == ROOT / "data" / "jobs"
    assert config.storage.keep_job_files_days == 30


def test_unknown_section_names_the_key() -> None:
    with pytest.raises(ConfigError, match="key 'telegrm' is not a known setting"):
        parse_config({**_base(), "telegrm": {}}, env={})


def test_missing_hosts_says_what_to_add() -> None:
    with pytest.raises(ConfigError, match="key 'comfy' is required"):
        parse_config({}, env={})


def test_bad_value_names_key_and_value() -> None:
    with pytest.raises(ConfigError, match=r"comfy\.hosts\.0\.max_concurrent"):
        parse_config(_base(max_concurrent=0), env={})


def test_a_malformed_secret_is_named_but_never_echoed() -> None:
    secret = "not a valid secret!"
    data = {**_base(), "telegram": {"token": "123:abc", "webhook_secret": secret}}
    with pytest.raises(ConfigError, match=r"telegram\.webhook_secret") as raised:
        read_chats(parse_config(data, env={}), env={})
    assert secret not in str(raised.value)


def test_a_whole_table_is_never_echoed_it_may_hold_secrets() -> None:
    host = {"name": "gpu-1", "url": "http://127.0.0.1:8188", "token": "host-secret"}
    with pytest.raises(ConfigError) as raised:
        parse_config({"comfy": {"hosts": [host, host]}}, "config.toml", env={})
    assert str(raised.value) == (
        "Invalid configuration in config.toml:\n  - key 'comfy': Value error, host names must "
        "be unique; repeated: gpu-1."
    )
    data = {**_base(), "telegram": {"token": "123:chat-secret", "mode": "webhook"}}
    with pytest.raises(ConfigError) as raised:
        read_chats(parse_config(data, env={}), env={}, source="config.toml")
    assert str(raised.value) == (
        "Invalid configuration in config.toml:\n  - key 'telegram': Value error, mode = "
        "'webhook' needs webhook_url = 'https://your.host/telegram'."
    )


def test_chat_sections_are_kept_as_read_for_their_adapters() -> None:
    telegram = {"token": "123:abc", "anything": ["the adapter decides"]}
    config = parse_config({**_base(), "telegram": telegram}, env={})
    assert config.chats == {"telegram": telegram}
    assert parse_config(_base(), env={}).chats == {}
    # `chats` is where they are kept, not a setting.
    with pytest.raises(ConfigError, match="key 'chats' is not a known setting"):
        parse_config({**_base(), "chats": {"telegram": telegram}}, env={})


def test_a_chat_section_that_is_not_a_table_is_named() -> None:
    config = parse_config({**_base(), "telegram": 5}, "config.toml", env={})
    with pytest.raises(ConfigError) as raised:
        read_chats(config, env={}, source="config.toml")
    assert str(raised.value) == (
        "Invalid configuration in config.toml:\n  - key 'telegram': Input should be a valid "
        "dictionary or instance of TelegramConfig (got 5)."
    )


def test_host_token_from_environment() -> None:
    config = parse_config(_base(), env={"WANBOT_COMFY_TOKEN_GPU_1": "s3cret"})
    assert config.comfy.hosts[0].token == "s3cret"


def test_presets_and_overrides() -> None:
    config = parse_config(_base(preset="rtx3060", hardware={"attention_mode": "sageattn"}), env={})
    host = config.comfy.hosts[0]
    assert host.preset is HardwarePreset.RTX3060
    hw = host.resolved_hardware()
    assert (hw.blocks_to_swap, hw.tiled_vae, hw.attention_mode) == (40, True, "sageattn")


def test_bad_hardware_override_is_reported() -> None:
    with pytest.raises(ConfigError, match="blocks_to_swap"):
        parse_config(_base(hardware={"blocks_to_swap": 99}), env={})


def test_model_overrides_per_host() -> None:
    config = parse_config(_base(models={"i2v": "other.safetensors"}), env={})
    models = config.comfy.hosts[0].resolved_models(config.models)
    assert models.i2v == "other.safetensors"
    assert models.vae == config.models.vae


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not found: `wanbot init --config .*nope\.toml`"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[comfy\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_relative_storage_paths_start_at_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bot"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        '[comfy]\n[[comfy.hosts]]\nname = "gpu-1"\nurl = "http://127.0.0.1:8188"\n'
        f'[storage]\ndata = "state"\ndatabase = "db/wanbot.db"\njobs = "{tmp_path / "jobs"}"\n'
        'outputs = "~/videos"\nkeep_job_files_days = 0\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    storage = load_config(Path("..") / "bot" / "config.toml", env={}).storage
    assert storage.database.is_absolute()
    assert storage.database.resolve() == (folder / "state" / "db" / "wanbot.db").resolve()
    assert storage.jobs == tmp_path / "jobs"
    assert storage.outputs == Path.home() / "videos"
    assert storage.keep_job_files_days == 0


def test_parse_config_takes_relative_storage_paths_from_base_dir(tmp_path: Path) -> None:
    assert parse_config(_base(), env={}).storage.database == Path("data/wanbot.db")
    config = parse_config(_base(), env={}, base_dir=tmp_path)
    assert config.storage.database == tmp_path / "data" / "wanbot.db"
    assert config.storage.jobs == tmp_path / "data" / "jobs"
    with pytest.raises(ConfigError, match=r"storage\.keep_job_files_days"):
        parse_config({**_base(), "storage": {"keep_job_files_days": -1}}, env={})


def test_wanbot_data_moves_all_the_data_whatever_the_file_says(tmp_path: Path) -> None:
    """The image's WANBOT_DATA (its volume) wins over `[storage] data`; paths relative to the
    data folder follow it, absolute ones stay."""
    volume = tmp_path / "volume"
    data = {**_base(), "storage": {"data": "here", "outputs": "archive", "jobs": "/abs/jobs"}}
    storage = parse_config(data, env={"WANBOT_DATA": str(volume)}, base_dir=tmp_path).storage
    assert storage.data == volume and storage.database == volume / "wanbot.db"
    assert storage.outputs == volume / "archive" and storage.jobs == Path("/abs/jobs")


def test_the_defaults_and_inits_file_keep_the_data_in_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs, settings and quotas must not disappear when `wanbot init` adds a config file."""
    monkeypatch.chdir(tmp_path)
    defaults = default_config(env={}).storage
    (tmp_path / "config.toml").write_text((ROOT / "bot" / "config.example.toml").read_text())
    written = load_config(Path("config.toml"), env={}).storage
    for key in ("data", "database", "outputs", "jobs"):
        assert getattr(written, key) == tmp_path / getattr(defaults, key), key
    assert defaults.database == Path("data") / "wanbot.db"


def _file(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[comfy]\n[[comfy.hosts]]\nname = "gpu-1"\nurl = "http://127.0.0.1:8188"\n' + text
    )
    return path


def test_a_token_in_the_environment_turns_its_platform_on_beside_a_config(tmp_path: Path) -> None:
    """What compose does: a config without chat sections, the token in the environment."""
    env = {"WANBOT_TELEGRAM_TOKEN": "123:env-token"}
    config = app_load_config(_file(tmp_path), env=env)
    chats = read_chats(config, env=env)
    assert [chat.name for chat in chats] == ["telegram"]
    assert chats[0].settings.token == "123:env-token"  # type: ignore[attr-defined]
    assert read_chats(app_load_config(_file(tmp_path), env={}), env={}) == []


async def test_enabled_false_keeps_a_platform_off_whatever_the_environment(tmp_path: Path) -> None:
    env = {"WANBOT_DISCORD_TOKEN": "a.b.c", "WANBOT_TELEGRAM_TOKEN": "123:env-token"}
    path = _file(tmp_path, "[discord]\nenabled = false\n[telegram]\nenabled = true\n")
    config = app_load_config(path, env=env)
    assert [chat.name for chat in read_chats(config, env=env)] == ["telegram"]
    off = await check_front_ends(config, env=env, table={"discord": "adapters.discord"})
    assert off == [(True, "discord: off ([discord] enabled = false)")]
    with pytest.raises(ConfigError, match=r"key 'discord\.enabled' must be true or false"):
        app_load_config(_file(tmp_path, '[discord]\nenabled = "no"\n'), env=env)
