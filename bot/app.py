"""The composition root of `wanbot serve`: store, archive, hosts, engine, retention, front ends.

Front ends are chat adapters living in `adapters/<platform>/`. `bot/` never imports them: each
is named in `ADAPTERS` by its package's import path and loaded only when its section is present
in the config. The package provides three module-level functions (`ChatAdapter`):

- `read_settings(section, env, source)`: its `[section]` table as read, validated with the
  adapter's own pydantic model (secrets may come from `env`), or `ConfigError` naming the key
  and the fix (`bot.config_errors.validate_section` and `config_problems` write those lines);
- `create(config, settings, engine)`: the `bot.frontend.Adapter` that `wanbot serve` runs;
- `check(config, settings)`: `wanbot check`'s probe, as (works, one line to print).

To add a platform, write those three in `adapters/<platform>/__init__.py`, add its section name
to `bot.config.CHAT_SECTIONS` and one line to `ADAPTERS`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from pydantic import BaseModel

from bot import config as core_config
from bot import logs
from bot.archive import Archive
from bot.config import Config
from bot.config_errors import config_problems, unknown_key
from bot.dburl import PostgresUrl, hide_password
from bot.engine.core import Engine
from bot.engine.lock import ServeLock
from bot.engine.ports import Adapter
from bot.engine.retention import Retention
from bot.engine.store import JobStore
from bot.errors import ConfigError
from bot.logs import announce
from bot.ops import OpsServer, readiness_of

if TYPE_CHECKING:
    from bot.engine.lease import Lease

log = logging.getLogger(__name__)

# Chat section → the adapter package that serves it. The section being present turns it on.
ADAPTERS: dict[str, str] = {
    "telegram": "adapters.telegram",
    "discord": "adapters.discord",
}
CONTRACT = ("read_settings", "create", "check")


class ChatAdapter(Protocol):
    """What an adapter package provides (as module functions); see the module docstring."""

    def read_settings(self, section: Any, env: Mapping[str, str], source: str) -> BaseModel: ...

    def create(self, config: Config, settings: Any, engine: Engine) -> Adapter: ...

    def check(self, config: Config, settings: Any) -> Awaitable[tuple[bool, str]]: ...


@dataclass(frozen=True)
class Chat:
    """A configured chat section: the adapter that serves it and the settings it validated."""

    name: str
    adapter: ChatAdapter
    settings: BaseModel


DEFAULT_HOST = "http://127.0.0.1:8188"


def load_config(
    path: Path, env: Mapping[str, str] | None = None, *, defaults_if_missing: bool = False
) -> Config:
    """`bot.config.load_config`, then each chat section validated by its adapter: a bad one
    stops any command at start-up with one line, as a bad core key does. Without a file at
    `path` and with `defaults_if_missing`, the defaults (`default_config`)."""
    if defaults_if_missing and not path.exists():
        config = default_config(env)
        read_chats(config, env, "the defaults")
        return config
    config = core_config.load_config(path, env)
    _refuse_old_layout(config, path)
    turn_on_chats(config, env, str(path))
    read_chats(config, env, str(path))
    return config


def _refuse_old_layout(config: Config, path: Path) -> None:
    """Stop when the database is not in the data folder but beside the config file, where
    WanBot once kept it: starting afresh would hide the queue, quotas and settings."""
    storage, database = config.storage, config.storage.database
    if not isinstance(database, Path):  # PostgreSQL: no file to have moved
        return
    if database.exists() or not database.is_relative_to(storage.data):
        return
    old = Path(os.path.abspath(path)).parent / database.relative_to(storage.data)
    if old.is_file() and old != database:
        raise ConfigError(
            f"WanBot's data now lives in {storage.data} ([storage] data), but its database is "
            f"still at {old}: move it, with the outputs and jobs folders beside it, into "
            f"{storage.data}, or set [storage] database, outputs and jobs to where they are."
        )


def default_config(env: Mapping[str, str] | None = None) -> Config:
    """What WanBot runs on without a config file: one ComfyUI host on this machine, the
    database, archive and job folders in `[storage] data`'s default (./data, or WANBOT_DATA),
    and each chat whose token variable (WANBOT_TELEGRAM_TOKEN, WANBOT_DISCORD_TOKEN) is set."""
    data: dict[str, Any] = {"comfy": {"hosts": [{"name": "local", "url": DEFAULT_HOST}]}}
    config = core_config.parse_config(data, "the defaults", env)
    turn_on_chats(config, env, "the defaults")
    return config


# A chat section's own switch: `enabled = false` keeps the platform off, even with a token in
# the environment. The core reads it; the adapter never sees it.
ENABLED = "enabled"


def turn_on_chats(
    config: Config, env: Mapping[str, str] | None = None, source: str = "config"
) -> None:
    """Add an empty section for each platform whose token variable (`TOKEN_ENV`, such as
    WANBOT_TELEGRAM_TOKEN) is set and that the config does not have: a token in the
    environment turns its platform on. Each section's `enabled` is checked to be a boolean."""
    env = os.environ if env is None else env
    for name, path in ADAPTERS.items():
        section = config.chats.get(name)
        if isinstance(section, dict) and not isinstance(section.get(ENABLED, True), bool):
            problem = f"key '{name}.{ENABLED}' must be true or false (got {section[ENABLED]!r})."
            raise ConfigError(config_problems(source, [problem]))
        if section is None:
            variable = token_variable(name, path)
            if variable and env.get(variable):
                config.chats[name] = {}


def token_variable(name: str, path: str) -> str | None:
    """The environment variable that holds the platform's token (its adapter's `TOKEN_ENV`)."""
    variable = getattr(load_adapter(name, path), "TOKEN_ENV", None)
    return variable if isinstance(variable, str) else None


def switched_off(config: Config) -> list[str]:
    """The chat sections that say `enabled = false`."""
    return [
        name
        for name, section in config.chats.items()
        if isinstance(section, dict) and section.get(ENABLED) is False
    ]


def read_chats(
    config: Config,
    env: Mapping[str, str] | None = None,
    source: str = "config",
    table: Mapping[str, str] | None = None,
) -> list[Chat]:
    """Each chat section present in `config`, validated by its adapter (`ConfigError` if not)."""
    table = ADAPTERS if table is None else table
    off = switched_off(config)
    return [
        read_chat(name, config.chats[name], path, env, source)
        for name, path in table.items()
        if name in config.chats and name not in off
    ]


def read_chat(
    name: str,
    section: Any,
    path: str,
    env: Mapping[str, str] | None = None,
    source: str = "config",
) -> Chat:
    """The chat section `name`, validated by the adapter package at `path`.

    Its secrets, also those taken from the environment, are hidden from the logs at once.
    """
    adapter = load_adapter(name, path, source)
    if isinstance(section, dict):
        section = {key: value for key, value in section.items() if key != ENABLED}
    settings = adapter.read_settings(section, os.environ if env is None else env, source)
    logs.hide_secrets(settings)
    return Chat(name, adapter, settings)


def load_adapter(name: str, path: str, source: str = "config") -> ChatAdapter:
    """Import the adapter package at `path`; `ConfigError` when there is none or it is broken."""
    try:
        module = importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (path + ".").startswith(exc.name + "."):
            # No adapter for this section in this WanBot: as unknown as a misspelt key.
            raise ConfigError(config_problems(source, [unknown_key(name)])) from exc
        raise _cannot_load(path, str(exc)) from exc
    except ImportError as exc:
        raise _cannot_load(path, str(exc)) from exc
    missing = [attribute for attribute in CONTRACT if not hasattr(module, attribute)]
    if missing:
        raise _cannot_load(path, f"it has no {', '.join(missing)}")
    return cast(ChatAdapter, module)


def _cannot_load(path: str, reason: str) -> ConfigError:
    return ConfigError(
        f"Cannot load the front end {path!r}: {reason}. Install WanBot with its "
        f"dependencies, or remove that section from the config."
    )


async def check_front_ends(
    config: Config, env: Mapping[str, str] | None = None, table: Mapping[str, str] | None = None
) -> list[tuple[bool, str]]:
    """`wanbot check` for each configured chat section: (works, one line saying so)."""
    table = ADAPTERS if table is None else table
    results: list[tuple[bool, str]] = []
    for name, path in table.items():
        if name in switched_off(config):
            results.append((True, f"{name}: off ([{name}] {ENABLED} = false)"))
            continue
        if name not in config.chats:
            continue
        try:
            chat = read_chat(name, config.chats[name], path, env)
        except ConfigError as exc:
            results.append((False, f"{name}: {exc}"))
            continue
        results.append(await chat.adapter.check(config, chat.settings))
    return results


class App:
    """Everything `wanbot serve` runs, started and stopped in the right order."""

    def __init__(self, config: Config, chats: Sequence[Chat] | None = None) -> None:
        self.config = config
        # The config's own chat sections unless given: a bad one stops here, before any work.
        self.chats = read_chats(config) if chats is None else list(chats)
        self.adapters: list[Adapter] = []
        self.store: JobStore | None = None
        self.engine: Engine | None = None
        self.retention: Retention | None = None
        self.ops: OpsServer | None = None
        self.lock: ServeLock | None = None
        self.lease: Lease | None = None  # PostgreSQL: leader or standby
        # Set when this process led and another one leads now: `serve` stops then.
        self.lost = asyncio.Event()
        self.standing_by = asyncio.Event()  # set while another process leads first

    async def start(self) -> None:
        """Start everything; on PostgreSQL, wait first (a standby) until this process leads:
        only the leader recovers, dispatches and connects to the chat platforms."""
        database = self.config.storage.database
        if isinstance(database, PostgresUrl):
            from bot.engine.lease import Lease  # late: psycopg is slow to import

            self.lease = Lease(database, self.config.queue.failover_seconds)
            self.lost = self.lease.lost
        else:
            # First: a second serve on this file stops here, before recovery runs its jobs.
            self.lock = ServeLock(database)
            await self.lock.acquire()
        self.store = await JobStore.open(database)
        self.engine = Engine(self.config, self.store, Archive(self.config.storage.outputs))
        for chat in self.chats:
            adapter = chat.adapter.create(self.config, chat.settings, self.engine)
            self.engine.register(adapter)
            self.adapters.append(adapter)
            log.info("front end %s loaded", chat.name)
        if self.config.ops.listen:
            # Before recovery: a port that cannot be had stops the start before any work.
            chats = [(a.platform, readiness_of(a)) for a in self.adapters]
            self.ops = OpsServer(
                self.config.ops.listen, self.engine, self.store, chats, self._leading
            )
            await self.ops.start()
        if self.lease is not None:
            await self.lease.wait_to_lead(self._standby)
            self.standing_by.clear()
            self.store.fence_with(self.lease)
            announce(f"leading on {hide_password(self.lease.url.url)} as {self.lease.holder}")
        # Front ends are registered before recovery, which may deliver through them.
        await self.engine.start()
        storage = self.config.storage
        self.retention = Retention(self.store, storage.jobs, storage.keep_job_files_days)
        self.retention.start()
        for adapter in self.adapters:
            await adapter.start()

    def _leading(self) -> bool:
        return self.lease is None or self.lease.leading

    def _standby(self, leader: str) -> None:
        assert self.lease is not None
        self.standing_by.set()
        announce(
            f"standby: {leader} leads on {hide_password(self.lease.url.url)}; this process "
            f"takes over within {self.lease.seconds:g} s ([queue] failover_seconds) if it stops"
        )

    async def stop(self) -> None:
        if self.ops is not None:
            await self.ops.stop()
        if self.retention is not None:
            await self.retention.stop()
        for adapter in reversed(self.adapters):
            try:
                await adapter.stop()
            except Exception:
                log.exception("front end %s did not stop cleanly", adapter.platform)
        if self.engine is not None:
            await self.engine.stop()
        if self.store is not None:
            await self.store.close()
        if self.lease is not None:
            await self.lease.close()  # last: a standby takes over once this one is done
        if self.lock is not None:
            await self.lock.release()
