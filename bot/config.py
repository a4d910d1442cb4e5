"""Configuration: loaded once from TOML, validated with pydantic, secrets from the environment.

`config.example.toml` documents every key. A bad config raises `ConfigError` with a message
that names the key and says how to fix it. Chat sections (`[telegram]`, ...) are kept as read:
each adapter owns its section's model and validates it with `bot.config_errors.validate_section`
(see `bot.app`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.config_errors import format_errors
from bot.config_hosts import ComfySection as ComfySection
from bot.config_hosts import HostConfig as HostConfig
from bot.config_hosts import ModelOverrides as ModelOverrides
from bot.config_hosts import _Strict
from bot.dburl import PostgresUrl, database_setting
from bot.errors import ConfigError
from workflows.fast_recipes import DEFAULT_RECIPE, RECIPES, RecipeName
from workflows.hardware import Models


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
    quality: Literal["standard", "fast"] | None = None


class FastPreset(_Strict):
    """`--quality fast`: Wan2.2 I2V A14B with a step-distill LoRA. These values replace the
    mode's defaults for a fast job; the user's own flags still win. `recipe` names the LoRA pair
    and the settings it was made for (`workflows.fast_recipes`); keys given here override it."""

    recipe: RecipeName = DEFAULT_RECIPE
    steps: int = Field(default=RECIPES[DEFAULT_RECIPE].steps, ge=2)
    split: int = Field(default=RECIPES[DEFAULT_RECIPE].split, ge=1)  # low-noise expert's start
    cfg: float = Field(default=RECIPES[DEFAULT_RECIPE].cfg, ge=0)
    shift: float = Field(default=RECIPES[DEFAULT_RECIPE].shift, ge=0)
    scheduler: str = RECIPES[DEFAULT_RECIPE].scheduler

    @model_validator(mode="before")
    @classmethod
    def _recipe_values(cls, data: Any) -> Any:
        """The recipe's sampler settings under the keys the config sets itself."""
        if isinstance(data, dict) and data.get("recipe") in RECIPES:
            return {**RECIPES[data["recipe"]].sampler_values(), **data}
        return data

    @model_validator(mode="after")
    def _split_inside(self) -> FastPreset:
        if self.split >= self.steps:
            raise ValueError(f"split ({self.split}) must be below steps ({self.steps})")
        return self

    def sampler_values(self) -> dict[str, Any]:
        """What a fast job takes from here: the parameters, without the recipe's name."""
        return self.model_dump(exclude={"recipe"})


class Defaults(_Strict):
    i2v: ModeDefaults = Field(default_factory=ModeDefaults)
    infinitetalk: ModeDefaults = Field(default_factory=ModeDefaults)
    animate: ModeDefaults = Field(default_factory=ModeDefaults)
    animate2: ModeDefaults = Field(default_factory=ModeDefaults)


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
    max_batch: int = Field(default=4, ge=1, le=16)  # jobs one `--batch` makes
    # Seconds of one image-to-video made as a chain of clips (`--length`, SVI 2.0 Pro).
    max_length_seconds: float = Field(default=60.0, ge=1)
    # Pixels decoded from one job's still images (photo, background, pose and face images; a
    # large JPEG counts at its reduced decoding scale): 400 full-HD frames and a photo fit.
    max_total_pixels: int = Field(default=1_000_000_000, ge=1_000_000)


DATA_ENV = "WANBOT_DATA"


class Storage(_Strict):
    """Where WanBot keeps its data: one folder, `data`, holding the database, the archive and
    the job folders (each may be moved elsewhere with an absolute path)."""

    # Taken from the config file's folder (the working directory without a config file);
    # the environment variable WANBOT_DATA, when set, wins (a container's volume).
    data: Path = Path("data")
    # Relative paths below are taken from `data`, so that moving it moves them all.
    # A SQLite file, or a PostgreSQL URL (`postgresql://user@host/db`, see `bot.dburl`).
    database: Path | PostgresUrl = Path("wanbot.db")
    outputs: Path = Path("outputs")
    jobs: Path = Path("jobs")
    # Days a job's folder under `jobs` is kept after the job ended; 0 keeps it forever.
    keep_job_files_days: int = Field(default=30, ge=0)

    _database = field_validator("database", mode="before")(database_setting)

    def anchored(self, base_dir: Path | None, data_env: str | None = None) -> Storage:
        """These settings with `~` expanded, `data` taken from `base_dir` (or `data_env`, the
        value of WANBOT_DATA, relative to the working directory) and the other relative paths
        from `data`. With `base_dir` None, `data` stays relative to the working directory."""
        data = Path(data_env).expanduser() if data_env else self.data.expanduser()
        if not data_env and base_dir is not None and not data.is_absolute():
            data = base_dir / data

        def place(path: Path) -> Path:
            path = path.expanduser()
            return path if path.is_absolute() else data / path

        return self.model_copy(
            update={
                "data": data,
                "database": (
                    place(self.database) if isinstance(self.database, Path) else self.database
                ),
                "outputs": place(self.outputs),
                "jobs": place(self.jobs),
            }
        )


class DeliverySettings(_Strict):
    """How results leave the bot when they do not fit a platform's upload limit."""

    public_url: str | None = None
    image_fit: Literal["crop", "pad"] = "crop"


OPS_LISTEN_ENV = "WANBOT_OPS_LISTEN"
MAX_PORT = 65535


class Ops(_Strict):
    """The operators' HTTP listener (/healthz, /readyz, /metrics); off when `listen` is unset."""

    listen: str | None = Field(default=None, pattern=r"^[^:\s]*:\d{1,5}$")  # "127.0.0.1:9100"

    @field_validator("listen")
    @classmethod
    def _port_in_range(cls, listen: str | None) -> str | None:
        if listen is not None and int(listen.rpartition(":")[2]) > MAX_PORT:
            raise ValueError(f"the port must be 0 to {MAX_PORT}, as in 127.0.0.1:9100")
        return listen


class Quotas(_Strict):
    """Per-user limits over a rolling 24 hours (0: none); admins are exempt."""

    jobs_per_day: int = Field(default=0, ge=0)
    gpu_seconds_per_day: float = Field(default=0.0, ge=0)
    cooldown_seconds: float = Field(default=0.0, ge=0)  # between two submissions


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
    # Seconds between two preview images of one job sent to its front end (the newest wins).
    preview_interval: float = Field(default=5.0, ge=0)
    affinity_max_wait: float = Field(default=120.0, ge=0)
    health_interval: float = Field(default=10.0, gt=0)
    default_seconds_per_frame: float = Field(default=4.0, gt=0)
    # Several `wanbot serve` on one PostgreSQL database: the leader's lease lasts this long
    # (renewed every third of it); a standby takes over within it once the leader is gone.
    failover_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _admin_format(self) -> Queue:
        bad = [a for a in self.admins if ":" not in a or a.startswith(":") or a.endswith(":")]
        if bad:
            raise ValueError(
                f"admins must look like 'platform:user_id' (e.g. 'telegram:12345'); got {bad}"
            )
        return self


# Top-level tables that configure a chat platform. The core keeps each one as it was read
# (`Config.chats`); `bot.app` has the platform's adapter validate it with its own model.
CHAT_SECTIONS = ("telegram", "discord")
# Where `Config` gathers those tables; not a name anyone writes in a config file.
_CHATS_KEY = "chat sections"


class Config(_Strict):
    comfy: ComfySection
    models: Models = Field(default_factory=Models)
    defaults: Defaults = Field(default_factory=Defaults)
    fast: FastPreset = Field(default_factory=FastPreset)
    quotas: Quotas = Field(default_factory=Quotas)
    ops: Ops = Field(default_factory=Ops)
    limits: Limits = Field(default_factory=Limits)
    storage: Storage = Field(default_factory=Storage)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    queue: Queue = Field(default_factory=Queue)
    # Chat section name -> its table as read, e.g. {"telegram": {"token": ...}}.
    chats: dict[str, Any] = Field(default_factory=dict, validation_alias=_CHATS_KEY)

    @model_validator(mode="after")
    def _recipe_models(self) -> Config:
        """`[fast] recipe`'s LoRA files and strengths, where `[models]` names none itself."""
        recipe = RECIPES[self.fast.recipe].model_values()
        own = self.models.model_fields_set
        self.models = self.models.model_copy(
            update={k: v for k, v in recipe.items() if k not in own}
        )
        return self

    @model_validator(mode="before")
    @classmethod
    def _gather_chat_sections(cls, data: Any) -> Any:
        if isinstance(data, dict):
            chats = {k: v for k, v in data.items() if k in CHAT_SECTIONS}
            data = {k: v for k, v in data.items() if k not in CHAT_SECTIONS}
            data[_CHATS_KEY] = chats
        return data

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


def parse_config(
    data: dict[str, Any],
    source: str = "config",
    env: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> Config:
    """Validate a config mapping, filling host tokens from `env` (default: the process env).

    Chat sections are kept as read, in `Config.chats`: `bot.app.read_chats` validates them.

    `[storage] data` is taken from `base_dir` (the config file's folder), or from the working
    directory when it is None, unless WANBOT_DATA in `env` names it; the other relative
    `[storage]` paths are taken from `data`.
    """
    env = os.environ if env is None else env
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, source)) from exc
    config.storage = config.storage.anchored(base_dir, env.get(DATA_ENV))
    for host in config.comfy.hosts:
        token = env.get(host_token_env(host.name))
        if token and not host.token:
            host.token = token
        try:
            hw = host.resolved_hardware()
        except ValidationError as exc:
            raise ConfigError(
                format_errors(exc, f"{source} [comfy.hosts.hardware] of host {host.name!r}")
            ) from exc
        del hw
    listen = env.get(OPS_LISTEN_ENV)
    if listen and not config.ops.listen:
        try:
            config.ops = Ops.model_validate({"listen": listen})
        except ValidationError as exc:
            raise ConfigError(
                f"The environment variable {OPS_LISTEN_ENV}={listen!r} is not an address to "
                f"listen on: set it to HOST:PORT with a port of 0 to {MAX_PORT} (such as "
                "127.0.0.1:9100), or unset it."
            ) from exc
    return config


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the TOML file at `path`; relative storage paths start at its folder."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"Config file {path} not found: `wanbot init --config {path}` writes one to edit."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"Config file {path} is not UTF-8 text ({exc.reason} at byte {exc.start}): "
            "save it as UTF-8."
        ) from exc
    except IsADirectoryError as exc:
        raise ConfigError(
            f"--config {path} is a folder, not a file: name the file in it "
            f"(--config {path / 'config.toml'})."
        ) from exc
    except OSError as exc:
        raise ConfigError(f"Config file {path} cannot be read: {exc.strerror or exc}.") from exc
    # Not resolve(): a symlinked config file keeps its data beside the link.
    folder = Path(os.path.abspath(path)).parent
    return parse_config(data, str(path), env, base_dir=folder)
