"""The `[telegram]` section: its model, the token from the environment, the Bot API's limits.

`read_settings` is this adapter's part of the contract in `bot.app`: it validates the table as
read from the config file and returns the `TelegramConfig` the adapter runs with. Plain data:
importing it does not import the Telegram library.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.frontend import ConfigError, config_problems, validate_section

SECTION = "telegram"
TOKEN_ENV = "WANBOT_TELEGRAM_TOKEN"
CLOUD_UPLOAD = 50 * 1024 * 1024
LOCAL_UPLOAD = 2000 * 1024 * 1024
CLOUD_DOWNLOAD = 20 * 1024 * 1024


class TelegramConfig(BaseModel):
    """The `[telegram]` section, validated."""

    model_config = ConfigDict(extra="forbid")

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
        return LOCAL_UPLOAD if self.uses_local_server else CLOUD_UPLOAD

    def max_download_bytes(self) -> int:
        """What `getFile` may fetch: 20 MB from the cloud, 2000 MB from a local server."""
        if self.download_limit is not None:
            return self.download_limit
        return LOCAL_UPLOAD if self.uses_local_server else CLOUD_DOWNLOAD


def read_settings(section: Any, env: Mapping[str, str], source: str) -> TelegramConfig:
    """`[telegram]` as read from `source`, validated; the token may come from `TOKEN_ENV`.

    Raises `ConfigError` naming the key and the fix; a secret's value is never echoed.
    """
    telegram = validate_section(TelegramConfig, section, source, SECTION)
    token = env.get(TOKEN_ENV)
    if token and not telegram.token:
        telegram.token = token
    if not telegram.token:
        raise ConfigError(
            config_problems(
                source,
                [
                    f"key '{SECTION}.token' is required: set it, or the environment variable "
                    f"{TOKEN_ENV} (from @BotFather)."
                ],
            )
        )
    return telegram
