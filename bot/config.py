"""Configuration: loaded once from TOML, validated with pydantic, secrets from the environment.

`config.example.toml` documents every key. A bad config raises `ConfigError` with a message
that names the key and says how to fix it.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import ConfigError
from bot.logs import SECRET_FIELDS
from workflows.hardware import PRESETS, Hardware, HardwarePreset, Models


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelOverrides(_Strict):
    """Per-host model names; unset keys fall back to `[models]`."""

    i2v: str | None = None
    infinitetalk: str | None = None
    animate: str | None = None
    t5: str | None = None
    vae: str | None = None
    clip_vision: str | None = None
    wav2vec: str | None = None


class HostConfig(_Strict):
    """One ComfyUI host."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    url: str = Field(pattern=r"^https?://")
    token: str | None = None
    max_concurrent: int = Field(default=1, ge=1, le=64)
    preset: HardwarePreset = HardwarePreset.RTX4090
    hardware: dict[str, Any] = Field(default_factory=dict)
    models: ModelOverrides = Field(default_factory=ModelOverrides)

    def resolved_hardware(self) -> Hardware:
        """The preset's values with this host's `hardware` table on top."""
        base = PRESETS.get(self.preset, Hardware())
        return Hardware.model_validate({**base.model_dump(), **self.hardware})

    def resolved_models(self, defaults: Models) -> Models:
        """`[models]` with this host's overrides applied."""
        own = self.models.model_dump(exclude_none=True)
        return defaults.model_copy(update=own)


class ComfySection(_Strict):
    hosts: list[HostConfig] = Field(min_length=1)
    request_timeout: float = Field(default=30.0, gt=0)
    upload_timeout: float = Field(default=300.0, gt=0)
    schema_cache_seconds: float = Field(default=300.0, ge=0)

    @model_validator(mode="after")
    def _unique_names(self) -> ComfySection:
        names = [h.name for h in self.hosts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"host names must be unique; repeated: {', '.join(dupes)}")
        return self


class ModeDefaults(_Strict):
    """Per-mode default parameters; anything unset uses WanBot's built-in default."""

    negative_prompt: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    steps: int | None = None
    cfg: float | None = None
    shift: float | None = None
    scheduler: str | None = None
    denoise: float | None = None
    fps: float | None = None
    frame_window: int | None = None
    motion_frame: int | None = None
    pose_strength: float | None = None
    face_strength: float | None = None
    color_match: str | None = None


class Defaults(_Strict):
    i2v: ModeDefaults = Field(default_factory=ModeDefaults)
    infinitetalk: ModeDefaults = Field(default_factory=ModeDefaults)
    animate: ModeDefaults = Field(default_factory=ModeDefaults)


class Limits(_Strict):
    """Upper bounds that protect the GPUs and the users' patience."""

    max_frames: int = Field(default=161, ge=1)
    max_steps: int = Field(default=60, ge=1)
    max_side: int = Field(default=1280, ge=64)
    max_pixels: int = Field(default=1280 * 720, ge=64 * 64)
    min_side: int = Field(default=128, ge=16)
    max_audio_seconds: float = Field(default=60.0, gt=0)
    audio_over_limit: Literal["cut", "refuse"] = "cut"
    max_input_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_pose_frames: int = Field(default=400, ge=1)
    # Pixels decoded from one job's still images (photo, background, pose and face images; a
    # large JPEG counts at its reduced decoding scale): 400 full-HD frames and a photo fit.
    max_total_pixels: int = Field(default=1_000_000_000, ge=1_000_000)


class Storage(_Strict):
    """Where WanBot keeps its data. Relative paths are taken from the config file's folder."""

    database: Path = Path("wanbot.db")
    outputs: Path = Path("outputs")
    jobs: Path = Path("jobs")
    # Days a job's folder under `jobs` is kept after the job ended; 0 keeps it forever.
    keep_job_files_days: int = Field(default=30, ge=0)

    def anchored(self, base_dir: Path | None) -> Storage:
        """These settings with `~` expanded and relative paths taken from `base_dir`.

        With `base_dir` None, relative paths stay relative to the working directory.
        """

        def place(path: Path) -> Path:
            path = path.expanduser()
            return path if base_dir is None or path.is_absolute() else base_dir / path

        return self.model_copy(
            update={
                "database": place(self.database),
                "outputs": place(self.outputs),
                "jobs": place(self.jobs),
            }
        )


class Delivery(_Strict):
    """How results leave the bot when they do not fit a platform's upload limit."""

    public_url: str | None = None
    image_fit: Literal["crop", "pad"] = "crop"


class Queue(_Strict):
    """The job queue: per-user and global caps, retries, progress and scheduling timing."""

    max_queued_per_user: int = Field(default=5, ge=1)
    max_running_per_user: int = Field(default=1, ge=1)
    max_total_queued: int = Field(default=200, ge=1)
    # "platform:user_id" strings, e.g. "telegram:12345"; admins skip the caps and may cancel
    # anyone's job.
    admins: list[str] = Field(default_factory=list)
    max_attempts: int = Field(default=3, ge=1)
    progress_interval: float = Field(default=3.0, ge=0)
    affinity_max_wait: float = Field(default=120.0, ge=0)
    health_interval: float = Field(default=10.0, gt=0)
    default_seconds_per_frame: float = Field(default=4.0, gt=0)

    @model_validator(mode="after")
    def _admin_format(self) -> Queue:
        bad = [a for a in self.admins if ":" not in a or a.startswith(":") or a.endswith(":")]
        if bad:
            raise ValueError(
                f"admins must look like 'platform:user_id' (e.g. 'telegram:12345'); got {bad}"
            )
        return self


TELEGRAM_TOKEN_ENV = "WANBOT_TELEGRAM_TOKEN"
TELEGRAM_CLOUD_UPLOAD = 50 * 1024 * 1024
TELEGRAM_LOCAL_UPLOAD = 2000 * 1024 * 1024
TELEGRAM_CLOUD_DOWNLOAD = 20 * 1024 * 1024


class TelegramConfig(_Strict):
    """The `[telegram]` section. Plain data: `bot/` never imports the Telegram library."""

    token: str | None = None
    # A local Bot API server (https://github.com/tdlib/telegram-bot-api) lifts the upload limit
    # to 2000 MB and the download limit from 20 MB. Both URLs get the token appended.
    base_url: str | None = Field(default=None, pattern=r"^https?://")
    base_file_url: str | None = Field(default=None, pattern=r"^https?://")
    local_mode: bool = False
    allowed_users: list[int] = Field(default_factory=list)
    allowed_chats: list[int] = Field(default_factory=list)
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: float = Field(default=30.0, ge=0, le=300)
    webhook_url: str | None = Field(default=None, pattern=r"^https://")
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_path: str = Field(default="/telegram", pattern=r"^/")
    webhook_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    edit_interval: float = Field(default=3.0, ge=0)
    album_window: float = Field(default=1.5, ge=0)
    talk_wait: float = Field(default=300.0, gt=0)
    upload_limit: int | None = Field(default=None, ge=1024)
    download_limit: int | None = Field(default=None, ge=1024)

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramConfig:
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError("mode = 'webhook' needs webhook_url = 'https://your.host/telegram'")
        return self

    @property
    def uses_local_server(self) -> bool:
        return self.base_url is not None

    def max_upload_bytes(self) -> int:
        """What `send_video` may carry: 50 MB to Telegram's cloud, 2000 MB to a local server."""
        if self.upload_limit is not None:
            return self.upload_limit
        return TELEGRAM_LOCAL_UPLOAD if self.uses_local_server else TELEGRAM_CLOUD_UPLOAD

    def max_download_bytes(self) -> int:
        """What `getFile` may fetch: 20 MB from the cloud, 2000 MB from a local server."""
        if self.download_limit is not None:
            return self.download_limit
        return TELEGRAM_LOCAL_UPLOAD if self.uses_local_server else TELEGRAM_CLOUD_DOWNLOAD


class Config(_Strict):
    comfy: ComfySection
    models: Models = Field(default_factory=Models)
    defaults: Defaults = Field(default_factory=Defaults)
    limits: Limits = Field(default_factory=Limits)
    storage: Storage = Field(default_factory=Storage)
    delivery: Delivery = Field(default_factory=Delivery)
    queue: Queue = Field(default_factory=Queue)
    telegram: TelegramConfig | None = None

    def host(self, name: str | None) -> HostConfig:
        """The host called `name`, or the first one when `name` is None."""
        if name is None:
            return self.comfy.hosts[0]
        for host in self.comfy.hosts:
            if host.name == name:
                return host
        known = ", ".join(h.name for h in self.comfy.hosts)
        raise ConfigError(f"No ComfyUI host named {name!r}; configured hosts: {known}.")


def host_token_env(name: str) -> str:
    """The environment variable that may hold a host's token, e.g. `WANBOT_COMFY_TOKEN_GPU_1`."""
    return "WANBOT_COMFY_TOKEN_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = [f"Invalid configuration in {source}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            fix = "remove it or check its spelling (see config.example.toml)"
            lines.append(f"  - key '{key}' is not a known setting: {fix}.")
        elif err["type"] == "missing":
            lines.append(f"  - key '{key}' is required: add it (see config.example.toml).")
        elif err["loc"] and err["loc"][-1] in SECRET_FIELDS:
            # A malformed secret is still a secret: never echo it.
            lines.append(f"  - key '{key}': {err['msg']} (value not shown: it is a secret).")
        else:
            lines.append(f"  - key '{key}': {err['msg']} (got {err.get('input')!r}).")
    return "\n".join(lines)


def parse_config(
    data: dict[str, Any],
    source: str = "config",
    env: dict[str, str] | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Validate a config mapping, filling secrets from `env` (default: the process env).

    Relative `[storage]` paths are taken from `base_dir` (the config file's folder), or from
    the working directory when it is None.
    """
    env = dict(os.environ) if env is None else env
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source)) from exc
    config.storage = config.storage.anchored(base_dir)
    for host in config.comfy.hosts:
        token = env.get(host_token_env(host.name))
        if token and not host.token:
            host.token = token
        try:
            hw = host.resolved_hardware()
        except ValidationError as exc:
            raise ConfigError(
                _format_errors(exc, f"{source} [comfy.hosts.hardware] of host {host.name!r}")
            ) from exc
        del hw
    if config.telegram is not None:
        token = env.get(TELEGRAM_TOKEN_ENV)
        if token and not config.telegram.token:
            config.telegram.token = token
        if not config.telegram.token:
            raise ConfigError(
                f"Invalid configuration in {source}:\n  - key 'telegram.token' is required: "
                f"set it, or the environment variable {TELEGRAM_TOKEN_ENV} (from @BotFather)."
            )
    return config


def load_config(path: Path, env: dict[str, str] | None = None) -> Config:
    """Read and validate the TOML file at `path`; relative storage paths start at its folder."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"Config file {path} not found: copy config.example.toml to {path} and edit it."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from exc
    # Not resolve(): a symlinked config file keeps its data beside the link.
    folder = Path(os.path.abspath(path)).parent
    return parse_config(data, str(path), env, base_dir=folder)
